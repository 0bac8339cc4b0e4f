from ninja import Router

router = Router(tags=["课程申报"])
