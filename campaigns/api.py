from ninja import Router

router = Router(tags=["遴选活动"])
