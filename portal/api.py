from ninja import Router

router = Router(tags=["首页与帮助"])
