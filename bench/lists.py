"""Lists at scale (issue 12): seed a city of N courses with bulk inserts, then time the hot lists.

    JPK_DATABASE_URL=postgres://postgres@127.0.0.1:5432/jpk_bench_lists python -m bench.lists --courses 200000

Seeds (into the database the settings point at; nothing is committed to the repository): one
province › one city (湛江市) › ``--counties`` counties › schools (``--schools`` per county), one
campaign (the shipped Zhanjiang template), N courses spread over the schools, their school-level
entries (everyone), county-level entries (every other course) and city-level entries (every
tenth), and a teacher with 2 courses of his own. Then it requests each list ``--rounds`` times
through the test client (full middleware, templates) and prints p50/p95 and the query count.

``seed`` is also used by the PostgreSQL plan tests (``selection/tests/test_list_plans.py``) with a
few 10,000 rows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from types import SimpleNamespace

COMPLIANCES = ("pass", "pass", "pass", "warn", "fail", "pending", "none")
TITLES = ("秋天的雨", "10以内的加法", "探究平面镜成像", "小小的船", "江南", "圆的面积", "光合作用", "牛顿第一定律")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"


def seed(n_courses: int, *, counties: int = 10, schools_per_county: int = 20, batch: int = 5000) -> SimpleNamespace:
    """A city with ``n_courses`` courses and their entries; returns the units, admins, teacher and campaign."""
    from campaigns import services as campaign_services
    from campaigns.enums import CampaignStatus
    from catalog.models import CatalogNode, Textbook
    from courses.models import Course, CourseMember
    from orgs.models import Membership, Role, Unit, UnitKind, User

    province = Unit.objects.create(name="广东省", code="L440000", kind=UnitKind.PROVINCE)
    city = Unit.objects.create(name="湛江市", code="L440800", kind=UnitKind.CITY, parent=province)
    county_units, schools = [], []
    for c in range(counties):
        county = Unit.objects.create(name=f"第{c + 1}区", code=f"L4408{c:03d}", kind=UnitKind.COUNTY, parent=city)
        county_units.append(county)
        for j in range(schools_per_county):
            schools.append(Unit.objects.create(name=f"第{c + 1}区第{j + 1}小学", code=f"L4408{c:03d}-{j:03d}",
                                               kind=UnitKind.SCHOOL, parent=county))
    sysadmin = User.objects.create_user(username="lists_sys", password="x", is_superuser=True, is_staff=True)
    city_admin = User.objects.create_user(username="lists_city", password="x", real_name="市管理员")
    county_admin = User.objects.create_user(username="lists_county", password="x", real_name="区管理员")
    teacher = User.objects.create_user(username="lists_teacher", password="x", real_name="欧阳老师")
    Membership.objects.create(user=city_admin, unit=city, role=Role.ADMIN)
    Membership.objects.create(user=county_admin, unit=county_units[0], role=Role.ADMIN)
    Membership.objects.create(user=teacher, unit=schools[0], role=Role.TEACHER)
    campaign = campaign_services.create_from_shipped(sysadmin, "zhanjiang-2024", city, status=CampaignStatus.OPEN)
    levels = {lv.kind: lv for lv in campaign.levels.all()}
    book = Textbook.objects.create(stage="primary", grade="三年级", subject="语文", version="统编版", volume="上册")
    nodes = CatalogNode.objects.bulk_create([
        CatalogNode(textbook=book, title=f"第{i}课", label_path=f"第一单元 › 第{i}课", order=i, is_leaf=True)
        for i in range(1, 51)])

    s = SimpleNamespace(province=province, city=city, county=county_units[0], schools=schools, campaign=campaign,
                        levels=levels, nodes=nodes, sysadmin=sysadmin, city_admin=city_admin,
                        county_admin=county_admin, teacher=teacher)
    add_courses(s, 0, n_courses, batch=batch)
    own = [Course.objects.create(campaign=campaign, category="subject", node=nodes[0], title=f"欧阳老师的课{i}",
                                 lead_teacher=teacher, school=schools[0]) for i in range(2)]
    other = Course.objects.filter(school=schools[1]).first()
    if other is not None:
        CourseMember.objects.create(course=other, user=teacher)
    s.own_courses = own
    return s


def add_courses(s: SimpleNamespace, first: int, n: int, *, batch: int = 5000) -> None:
    """Courses ``first`` … ``first + n - 1`` of the seeded city ``s`` (two per lead teacher), with
    their entries: at the school (all), the county (every other), the city (every tenth)."""
    from courses.models import Course
    from orgs.models import User
    from selection.models import Entry

    campaign, levels, nodes, schools, city = s.campaign, s.levels, s.nodes, s.schools, s.city
    for lo in range(first // 2, (first + n + 1) // 2, batch):
        User.objects.bulk_create([
            User(username=f"lt{i}", real_name=f"{SURNAMES[i % len(SURNAMES)]}{i:06d}")
            for i in range(lo, min((first + n + 1) // 2, lo + batch))], ignore_conflicts=True)
    teacher_ids = dict(User.objects.filter(username__startswith="lt").values_list("username", "pk"))
    done = first
    while done < first + n:
        rows = range(done, min(first + n, done + batch))
        courses = Course.objects.bulk_create([
            Course(campaign=campaign, category="subject", node=nodes[i % len(nodes)],
                   title=f"{TITLES[i % len(TITLES)]}（{i}）", lead_teacher_id=teacher_ids[f"lt{i // 2}"],
                   school=schools[i % len(schools)], status="submitted", compliance=COMPLIANCES[i % len(COMPLIANCES)])
            for i in rows])
        entries = []
        for i, course in zip(rows, courses, strict=True):
            school = schools[i % len(schools)]
            county = school.parent
            entries.append(Entry(campaign=campaign, course=course, level=levels["school"], unit=school,
                                 node=course.node, node_exclusive=False,
                                 state="recommended" if i % 2 == 0 else "pending", rank=(i // len(schools)) + 1))
            if i % 2 == 0:
                entries.append(Entry(campaign=campaign, course=course, level=levels["county"], unit=county,
                                     from_unit=school, node=course.node, node_exclusive=False,
                                     state="recommended" if i % 10 == 0 else "pending",
                                     rank=(i // (2 * len(schools))) + 1 if i % 4 == 0 else None))
            if i % 10 == 0:
                entries.append(Entry(campaign=campaign, course=course, level=levels["city"], unit=city,
                                     from_unit=county, node=course.node, node_exclusive=False))
        Entry.objects.bulk_create(entries)
        done = rows.stop


def reuse() -> SimpleNamespace:
    """The seeded city of an earlier run (``--reuse``)."""
    from campaigns.models import Campaign
    from orgs.models import Unit, User

    users = {u.username: u for u in User.objects.filter(username__startswith="lists_")}
    return SimpleNamespace(city=Unit.objects.get(code="L440800"), county=Unit.objects.get(code="L4408000"),
                           campaign=Campaign.objects.get(owner__code="L440800"), city_admin=users["lists_city"],
                           county_admin=users["lists_county"], teacher=users["lists_teacher"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lists")
    parser.add_argument("--courses", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--reuse", action="store_true", help="time the lists of a database seeded before")
    args = parser.parse_args(argv)
    os.environ.setdefault("JPK_DATA_DIR", tempfile.mkdtemp(prefix="jpk-bench-lists-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jingpinke.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import override_settings

    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    s = reuse() if args.reuse else seed(args.courses)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    print(f"seeded {args.courses} courses in {time.perf_counter() - t0:.0f} s ({connection.vendor})")
    c = s.campaign.pk
    cases = [
        ("GET /api/v1/selection/entries (city admin)", s.city_admin, "/api/v1/selection/entries"),
        ("GET /api/v1/selection/entries (county admin)", s.county_admin, "/api/v1/selection/entries"),
        ("GET /api/v1/selection/entries?q=秋天的雨 (city admin)", s.city_admin, "/api/v1/selection/entries?q=秋天的雨"),
        ("GET /api/v1/selection/entries?q=王 (city admin)", s.city_admin, "/api/v1/selection/entries?q=王"),
        ("GET /api/v1/selection/entries?compliance=fail (city)", s.city_admin,
         "/api/v1/selection/entries?compliance=fail"),
        ("/courses/ (city admin)", s.city_admin, "/courses/"),
        ("/courses/ (teacher, 2 courses + 1 team)", s.teacher, "/courses/"),
        ("/courses/?page=100 (city admin)", s.city_admin, "/courses/?page=100"),
        ("progress board (city)", s.city_admin, f"/api/v1/selection/campaigns/{c}/progress"),
    ]
    with override_settings(DEBUG=True, ALLOWED_HOSTS=["*"], AXES_ENABLED=False):
        for label, user, url in cases:
            client = Client()
            client.force_login(user)
            times, queries = [], 0
            for _ in range(args.rounds):
                reset_queries()
                t = time.perf_counter()
                response = client.get(url)
                times.append(time.perf_counter() - t)
                queries = len(connection.queries)
                assert response.status_code == 200, (url, response.status_code)
            times.sort()
            p95 = times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]
            print(f"| {label} | {statistics.median(times) * 1000:.0f} ms | {p95 * 1000:.0f} ms | {queries} |")
    del settings
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
