"""Pages and endpoints `make bench` times: (name, demo username or None, URL)."""

CASES = [
    ("login page", None, "/accounts/login/"),
    ("home: teacher", "teacher_li", "/"),
    ("home: county admin", "ck_admin", "/"),
    ("home: city admin", "zj_admin", "/"),
    ("api: /portal/home (county admin)", "ck_admin", "/api/v1/portal/home"),
    ("api: openapi.json", None, "/api/v1/openapi.json"),
]
