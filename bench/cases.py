"""Pages and endpoints `make bench` times: (name, demo username or None, URL)."""

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
]
