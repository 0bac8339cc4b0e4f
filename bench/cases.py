"""Pages and endpoints `make bench` times: (name, demo username or None, URL). A URL may be a
function called once the demo is loaded, for pages whose address holds an id (a review task)."""


def _first_task(suffix: str = "score/") -> str:
    from orgs.models import User
    from review.models import Assignment

    expert = User.objects.filter(username="expert_wang").first()
    a = Assignment.objects.of_expert(expert).order_by("entry__code").first()
    return f"/review/my/{a.pk}/{suffix}" if a else "/review/my/"


def _demo_round(suffix: str) -> str:
    from review.models import ReviewRound

    r = ReviewRound.objects.order_by("pk").first()
    return f"/review/rounds/{r.pk}/{suffix}" if r else "/review/"


CASES = [
    ("login page", None, "/accounts/login/"),
    ("home: teacher", "teacher_li", "/"),
    ("home: county admin", "ck_admin", "/"),
    ("home: city admin", "zj_admin", "/"),
    ("api: /portal/home (county admin)", "ck_admin", "/api/v1/portal/home"),
    ("page: catalog nodes, 语文", "teacher_li", "/catalog/?subject=语文"),
    ("api: catalog nodes, keyword", "teacher_li", "/api/v1/catalog/nodes?q=秋天"),
    ("api: catalog facets", "teacher_li", "/api/v1/catalog/facets"),
    ("page: units (city admin)", "zj_admin", "/orgs/units/"),
    ("page: users (city admin)", "zj_admin", "/orgs/users/"),
    ("api: users (city admin)", "zj_admin", "/api/v1/orgs/users"),
    ("api: openapi.json", None, "/api/v1/openapi.json"),
    ("page: expert tasks (expert_wang)", "expert_wang", "/review/my/"),
    ("page: scoring page (expert_wang)", "expert_wang", _first_task),
    ("page: round results (city admin)", "zj_admin", lambda: _demo_round("results/")),
    ("page: round assignment (city admin)", "zj_admin", lambda: _demo_round("assignment/")),
]
