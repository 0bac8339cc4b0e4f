"""The demo organisation tree: Guangdong › Zhanjiang with its nine county-level units,
schools in each, city- and province-owned schools, and an account for every role."""

from __future__ import annotations

from django.db import transaction

from orgs.models import Membership, Role, Unit, UnitKind, User

DEMO_PASSWORD = "Jpk-demo-2024"

# (username, label) in the order the banner and README list them.
DEMO_ACCOUNTS = [
    ("admin", "系统管理员"),
    ("gd_admin", "省级管理员"),
    ("zj_admin", "市级管理员"),
    ("ck_admin", "区县管理员"),
    ("ck21x_admin", "学校管理员"),
    ("zj1z_admin", "市直属学校管理员"),
    ("teacher_li", "教师"),
    ("teacher_chen", "教师（实验教学）"),
    ("expert_wang", "评审专家"),
]

COUNTIES = [
    ("赤坎区", "440802", "ck"),
    ("霞山区", "440803", "xs"),
    ("坡头区", "440804", "pt"),
    ("麻章区", "440811", "mz"),
    ("遂溪县", "440823", "sx"),
    ("徐闻县", "440825", "xw"),
    ("廉江市", "440881", "lj"),
    ("雷州市", "440882", "lz"),
    ("吴川市", "440883", "wc"),
]

# A few real-sounding schools per county; the first of 赤坎区 hosts the demo teacher.
COUNTY_SCHOOLS = {
    "赤坎区": ["湛江市第二十一小学", "赤坎区第一小学", "湛江市第十二中学", "赤坎区特殊教育学校"],
}
DEFAULT_SCHOOLS = ["{c}第一小学", "{c}实验小学", "{c}第一中学", "{c}特殊教育学校"]
CITY_SCHOOLS = ["湛江市第一中学", "湛江市第二中学", "湛江市第二十中学", "湛江市特殊教育学校"]
PROVINCE_SCHOOLS = ["广东实验中学"]


def _unit(name, code, kind, parent=None) -> Unit:
    unit, _ = Unit.objects.get_or_create(code=code, defaults={"name": name, "kind": kind, "parent": parent})
    return unit


def _user(username, real_name, unit, role, mobile=None, title="", subject="", superuser=False) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, real_name=real_name, mobile=mobile, is_superuser=superuser, is_staff=superuser)
        user.set_password(DEMO_PASSWORD)
        user.save()
    if unit is not None:
        Membership.objects.get_or_create(user=user, unit=unit, role=role, defaults={"title": title, "subject": subject})
    return user


@transaction.atomic
def load() -> dict:
    """Create the demo tree and accounts (idempotent). Returns the key units."""
    province = _unit("广东省", "440000", UnitKind.PROVINCE)
    city = _unit("湛江市", "440800", UnitKind.CITY, province)
    for name, code in [("广州市", "440100"), ("茂名市", "440900")]:
        _unit(name, code, UnitKind.CITY, province)
    counties = {}
    for name, code, short in COUNTIES:
        county = _unit(name, code, UnitKind.COUNTY, city)
        counties[name] = county
        schools = COUNTY_SCHOOLS.get(name) or [s.format(c=name) for s in DEFAULT_SCHOOLS]
        for i, school_name in enumerate(schools, start=1):
            _unit(school_name, f"{code}{i:03d}", UnitKind.SCHOOL, county)
        _user(f"{short}_admin", f"{name}管理员", county, Role.ADMIN, title="教育局电教站")
    city_schools = [_unit(n, f"440800{i:03d}", UnitKind.SCHOOL, city) for i, n in enumerate(CITY_SCHOOLS, start=1)]
    for i, n in enumerate(PROVINCE_SCHOOLS, start=1):
        _unit(n, f"440000{i:03d}", UnitKind.SCHOOL, province)

    school = Unit.objects.get(code="440802001")  # 湛江市第二十一小学
    middle = Unit.objects.get(code="440802003")  # 湛江市第十二中学
    _user("admin", "系统管理员", None, Role.ADMIN, superuser=True)
    _user("gd_admin", "省教育厅管理员", province, Role.ADMIN, title="省教育厅基信处")
    _user("zj_admin", "湛江市教育局管理员", city, Role.ADMIN, title="湛江市教育装备中心")
    _user("ck21x_admin", "第二十一小学管理员", school, Role.ADMIN, title="教务处")
    _user("zj1z_admin", "湛江一中管理员", city_schools[0], Role.ADMIN, title="教务处")
    _user("teacher_li", "李晓梅", school, Role.TEACHER, mobile="13800000001", subject="语文")
    _user("teacher_zhou", "周建华", school, Role.TEACHER, mobile="13800000003", subject="数学")
    _user("teacher_chen", "陈志强", middle, Role.TEACHER, mobile="13800000002", subject="物理")
    _user("expert_wang", "王立平", city, Role.EXPERT, mobile="13900000001", subject="小学语文")
    return {"province": province, "city": city, "counties": counties, "school": school}
