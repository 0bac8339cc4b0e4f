from ninja import Router

router = Router(tags=["教材目录"])
