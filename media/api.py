from ninja import Router

router = Router(tags=["文件"])
