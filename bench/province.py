"""A synthetic province for `make bench`: 21 cities, 120 counties, 20,000 schools, 200,000 courses.

`generate(scale=1.0, seed=2024)` fills the current database (SQLite or PostgreSQL) through the
models with ``bulk_create`` in batches, so a whole province takes minutes, not tens of minutes:

- the units: one province, its cities, their counties, the schools (all owned by counties);
- accounts, all with the password ``PASSWORD`` (hashed once and shared): a system admin
  ``pv_sysadmin``, the province admin ``pv_province``, one admin per city ``pv_city_01`` …, per
  county ``pv_county_001`` … and per school ``pv_school_00001`` …, and five teachers per school
  ``pv_t_00001_1`` … (each the lead teacher of two courses and a team member of another);
- a catalog of its own (12 subjects × 一年级…九年级 × 上/下册, 30 lessons each, all opened) and
  the Guangdong 2024 campaign (levels school → county → city → province, no quotas, deadlines
  cleared) imported from the shipped template, owned by the province;
- ten courses per school, one 课时 each, with a resource row in each of the five slots; the
  resource rows share five tiny placeholder files (one per kind) in the default storage;
- the selection: 90 % of the courses submitted (an entry at their school), of those about 40 %
  recommended by the school (an entry at the county), a fifth of those by the county (at the
  city) and a tenth of those by the city (at the province); some declined or returned. The
  one-course-per-node rule holds for every unit and level.

Same seed → same data (names, codes, who leads what, every state); only the timestamps and the
primary keys differ. ``scale`` multiplies the number of schools (and so of courses); the
cities and counties shrink with it only when there are fewer schools than units.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

PASSWORD = "Bench-pass-2026"
PREFIX = "pv"  # usernames and unit codes start with it
SUBJECTS = ("语文", "数学", "英语", "道德与法治", "科学", "物理", "化学", "生物", "历史", "地理", "音乐", "美术")
VOLUMES = ("上册", "下册")
LESSONS_PER_BOOK = 30
COURSES_PER_SCHOOL = 10
TEACHERS_PER_SCHOOL = 5
SLOTS = ("video", "lesson_plan", "task_sheet", "slides", "exercises")
PLACEHOLDER = {  # kind → (file kind, bytes): the smallest files the sniffer takes for what they are
    "video": ("mp4", b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 8),
    "lesson_plan": ("pdf", b"%PDF-1.4\n%bench placeholder\n%%EOF\n"),
    "task_sheet": ("pdf", b"%PDF-1.4\n%bench placeholder\n%%EOF\n"),
    "slides": ("pdf", b"%PDF-1.4\n%bench placeholder\n%%EOF\n"),
    "exercises": ("pdf", b"%PDF-1.4\n%bench placeholder\n%%EOF\n"),
}
CITY_NAMES = ("广州", "深圳", "珠海", "汕头", "佛山", "韶关", "河源", "梅州", "惠州", "汕尾", "东莞", "中山", "江门",
              "阳江", "湛江", "茂名", "肇庆", "清远", "潮州", "揭阳", "云浮")
TOPICS = ("秋天", "找春天", "分数的意义", "光的折射", "认识人民币", "丝绸之路", "水的循环", "古诗三首", "圆的面积",
          "我们的家乡", "电流和电路", "细胞的结构", "长方体", "小数乘法", "植物的一生", "家乡的变化")


@dataclass
class Summary:
    scale: float
    seed: int
    cities: int = 0
    counties: int = 0
    schools: int = 0
    users: int = 0
    courses: int = 0
    resources: int = 0
    entries: dict = field(default_factory=dict)
    seconds: float = 0.0
    campaign_id: int | None = None

    def line(self) -> str:
        levels = ", ".join(f"{k} {v:,}" for k, v in self.entries.items())
        return (f"{self.cities} cities, {self.counties} counties, {self.schools:,} schools, {self.users:,} users, "
                f"{self.courses:,} courses, {self.resources:,} resources, entries: {levels} in {self.seconds:.0f} s")


def sizes(scale: float) -> tuple[int, int, int]:
    """(cities, counties, schools) at ``scale``."""
    schools = max(1, round(20_000 * scale))
    counties = min(120, schools)
    cities = min(21, counties)
    return cities, counties, schools


def _batched(rows, size):
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def _insert(model, rows, batch=2000):
    for part in _batched(rows, batch):
        model.objects.bulk_create(part, batch_size=batch)


def generate(scale: float = 1.0, seed: int = 2024, *, progress=None, chunk_schools: int = 500) -> Summary:
    """Fill the (empty) database with a synthetic province; see the module docstring."""
    from django.contrib.auth.hashers import make_password
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.db import transaction

    from campaigns import services as campaign_services
    from campaigns.models import Level
    from catalog import rules as catalog_rules
    from catalog.models import CatalogNode, OpenNode, Textbook
    from courses.compliance import of_statuses
    from courses.models import CheckStatus, Course, CourseMember, CourseStatus, Period, Resource
    from media.models import ProbeStatus, StoredFile
    from orgs.models import Membership, Role, Unit, UnitKind, User
    from selection.models import Entry, EntryState

    say = progress or (lambda *a, **k: None)
    started = time.perf_counter()
    rng = random.Random(seed)
    summary = Summary(scale, seed)
    n_cities, n_counties, n_schools = sizes(scale)
    password = make_password(PASSWORD)

    def user(username, name, **extra):
        return User(username=username, real_name=name, password=password, **extra)

    # --- units, admins ------------------------------------------------------------------------
    with transaction.atomic():
        province = Unit.objects.create(name="基准省", code=f"{PREFIX}-44", kind=UnitKind.PROVINCE)
        cities = []
        for c in range(n_cities):
            cities.append(Unit(name=f"{CITY_NAMES[c % len(CITY_NAMES)]}市", code=f"{PREFIX}-44{c + 1:02d}",
                               kind=UnitKind.CITY, parent=province, sort_order=c))
        _insert(Unit, cities)
        cities = list(Unit.objects.filter(parent=province).order_by("code"))
        county_rows = []
        for k in range(n_counties):
            city = cities[k % n_cities]  # 120 counties over 21 cities: 5 or 6 each
            county_rows.append(Unit(name=f"{city.name[:-1]}第{k // n_cities + 1}区", code=f"{city.code}{k // n_cities + 1:02d}",
                                    kind=UnitKind.COUNTY, parent=city, sort_order=k))
        _insert(Unit, county_rows)
        counties = list(Unit.objects.filter(kind=UnitKind.COUNTY, parent__in=cities).order_by("code"))
        school_rows = []
        for s in range(n_schools):
            county = counties[s % n_counties]
            school_rows.append(Unit(name=f"{county.name}第{s // n_counties + 1}学校",
                                    code=f"{county.code}{s // n_counties + 1:03d}", kind=UnitKind.SCHOOL,
                                    parent=county, sort_order=s))
        _insert(Unit, school_rows, 5000)
        schools = list(Unit.objects.filter(kind=UnitKind.SCHOOL, parent__in=counties).order_by("code"))
        # Paths: /province/city/county/school/ (bulk_create does not run Unit.save).
        province.refresh_from_db()
        for depth, rows in ((1, cities), (2, counties), (3, schools)):
            parents = {u.pk: u for u in Unit.objects.filter(pk__in={r.parent_id for r in rows})}
            for unit in rows:
                unit.path, unit.depth = f"{parents[unit.parent_id].path}{unit.pk}/", depth
            Unit.objects.bulk_update(rows, ["path", "depth"], batch_size=2000)
        summary.cities, summary.counties, summary.schools = len(cities), len(counties), len(schools)
        say(f"units: {len(cities)} cities, {len(counties)} counties, {len(schools):,} schools")

        admins = [user(f"{PREFIX}_sysadmin", "系统管理员", is_superuser=True, is_staff=True),
                  user(f"{PREFIX}_province", "省级管理员")]
        admin_units = [None, province]
        for i, unit in enumerate(cities, start=1):
            admins.append(user(f"{PREFIX}_city_{i:02d}", f"{unit.name}管理员"))
            admin_units.append(unit)
        for i, unit in enumerate(counties, start=1):
            admins.append(user(f"{PREFIX}_county_{i:03d}", f"{unit.name}管理员"))
            admin_units.append(unit)
        for i, unit in enumerate(schools, start=1):
            admins.append(user(f"{PREFIX}_school_{i:05d}", f"{unit.name}管理员"))
            admin_units.append(unit)
        _insert(User, admins, 5000)
        by_name = dict(User.objects.filter(username__startswith=f"{PREFIX}_").values_list("username", "pk"))
        _insert(Membership, [Membership(user_id=by_name[u.username], unit=unit, role=Role.ADMIN)
                             for u, unit in zip(admins, admin_units, strict=True) if unit is not None], 5000)
        sysadmin = User.objects.get(username=f"{PREFIX}_sysadmin")
        summary.users += len(admins)

        # --- catalog and campaign -------------------------------------------------------------
        books = []
        for subject in SUBJECTS:
            for g, grade in enumerate(catalog_rules.GRADES):
                stage = catalog_rules.PRIMARY if g < 6 else catalog_rules.JUNIOR
                for volume in VOLUMES:
                    books.append(Textbook(stage=stage, grade=grade, subject=subject, version="基准版", volume=volume,
                                          title=catalog_rules.textbook_title("基准版", subject, grade, volume),
                                          rank=catalog_rules.textbook_rank(stage, grade)))
        _insert(Textbook, books)
        books = list(Textbook.objects.filter(version="基准版").order_by("rank", "subject", "volume"))
        _insert(CatalogNode, [
            CatalogNode(textbook=b, title=f"{n + 1} {TOPICS[n % len(TOPICS)]}", order=n, depth=1, is_leaf=True,
                        label_path=f"第{n // 5 + 1}单元 › {n + 1} {TOPICS[n % len(TOPICS)]}",
                        external_id=f"{PREFIX}-{i + 1}-{n + 1}")  # not the key: same seed, same ids
            for i, b in enumerate(books) for n in range(LESSONS_PER_BOOK)], 5000)
        nodes = list(CatalogNode.objects.filter(textbook__in=books).order_by("textbook__rank", "textbook__subject",
                                                                             "textbook__volume", "order")
                     .values_list("pk", "textbook__subject", "textbook__stage"))

        doc = campaign_services.shipped_template_doc("guangdong-2024")
        campaign = campaign_services.import_template(sysadmin, doc, province, year_offset=2,
                                                     title="基准省 2026 年基础教育精品课遴选（基准数据）",
                                                     status="open")
        Level.objects.filter(campaign=campaign).update(deadline=None, confirm_deadline=None,
                                                       contact_form_deadline=None)
        levels = {lv.kind: lv for lv in Level.objects.filter(campaign=campaign)}
        _insert(OpenNode, [OpenNode(campaign=campaign, node_id=pk) for pk, _s, _g in nodes], 5000)
        # The requirements each resource was judged against (so that nothing is re-judged on reading:
        # the placeholder files carry no probe and would fail).
        from courses.services import RequirementBook

        book = RequirementBook(campaign.pk)
        judged = {(stage, kind): book.requirements("subject", stage, book.slot("subject", kind)).fingerprint()
                  for stage in (catalog_rules.PRIMARY, catalog_rules.JUNIOR) for kind in SLOTS}
        summary.campaign_id = campaign.pk

        files = {}
        for kind, (file_kind, data) in PLACEHOLDER.items():
            key = default_storage.save(f"bench/{PREFIX}-{kind}.bin", ContentFile(data))
            files[kind] = StoredFile.objects.create(
                owner=sysadmin, storage_key=key, original_name=f"占位文件-{kind}.{file_kind}", size=len(data),
                sha256=f"{PREFIX}{kind}".ljust(64, "0")[:64], kind=file_kind, probe_status=ProbeStatus.DONE)
        say(f"catalog: {len(books)} textbooks, {len(nodes):,} open nodes; campaign {campaign.pk}")

    # --- teachers, courses, resources, entries: a chunk of schools at a time ---------------
    recommended_nodes: set[tuple[str, int, int]] = set()  # (level, unit, node) of every recommendation
    ranks: dict[tuple[str, int], int] = {}
    counts = {kind: 0 for kind in ("school", "county", "city", "province")}
    county_of = {s.pk: s.parent_id for s in schools}
    city_of = {c.pk: c.parent_id for c in counties}
    status_weights = ((CheckStatus.PASS, 85), (CheckStatus.WARN, 12), (CheckStatus.FAIL, 3))
    statuses, weights = zip(*status_weights, strict=True)

    def try_recommend(level, unit_id, node_id) -> int | None:
        key = (level, unit_id, node_id)
        if key in recommended_nodes:
            return None
        recommended_nodes.add(key)
        ranks[(level, unit_id)] = ranks.get((level, unit_id), 0) + 1
        return ranks[(level, unit_id)]

    for first in range(0, len(schools), chunk_schools):
        part = schools[first:first + chunk_schools]
        with transaction.atomic():
            teachers, teacher_units = [], []
            for s_index, school in enumerate(part, start=first + 1):
                for t in range(1, TEACHERS_PER_SCHOOL + 1):
                    teachers.append(user(f"{PREFIX}_t_{s_index:05d}_{t}", f"教师{s_index:05d}{t}",
                                         email=""))
                    teacher_units.append(school)
            _insert(User, teachers, 5000)
            ids = dict(User.objects.filter(username__in=[t.username for t in teachers]).values_list("username", "pk"))
            _insert(Membership, [Membership(user_id=ids[t.username], unit=unit, role=Role.TEACHER, subject="")
                                 for t, unit in zip(teachers, teacher_units, strict=True)], 5000)
            summary.users += len(teachers)

            plans = []  # (course, member id, submitted state plan)
            for s_index, school in enumerate(part, start=first + 1):
                staff = [ids[f"{PREFIX}_t_{s_index:05d}_{t}"] for t in range(1, TEACHERS_PER_SCHOOL + 1)]
                for c in range(COURSES_PER_SCHOOL):
                    node_id, subject, stage = nodes[rng.randrange(len(nodes))]
                    lead = staff[c // 2]
                    member = staff[(c // 2 + 1) % len(staff)]
                    submitted = rng.random() < 0.9
                    course = Course(campaign=campaign, category="subject", node_id=node_id, school=school,
                                    title=f"{subject}·{TOPICS[rng.randrange(len(TOPICS))]}（{school.code}-{c + 1}）",
                                    lead_teacher_id=lead, periods_count=1,
                                    status=CourseStatus.SUBMITTED if submitted else CourseStatus.DRAFT)
                    draws = (rng.random(), rng.random(), rng.random())
                    checks = rng.choices(statuses, weights, k=len(SLOTS))
                    # set here, not by courses.compliance.refresh after the inserts: its correlated
                    # subqueries ran for minutes per chunk on PostgreSQL before the first ANALYZE
                    course.compliance = of_statuses(checks)
                    plans.append((course, member, submitted, *draws, checks, stage))
            courses = [p[0] for p in plans]
            _insert(Course, courses, 5000)
            if any(c.pk is None for c in courses):  # a backend that does not return keys from bulk inserts
                keyed = dict(Course.objects.filter(school__in=part).values_list("title", "pk"))
                for c in courses:
                    c.pk = c.id = keyed[c.title]
            _insert(CourseMember, [CourseMember(course=p[0], user_id=p[1], order=1) for p in plans], 5000)
            periods = [Period(course=c, number=1, title="") for c in courses]
            _insert(Period, periods, 5000)
            if any(p.pk is None for p in periods):
                keyed = dict(Period.objects.filter(course__in=courses).values_list("course_id", "pk"))
                for p in periods:
                    p.pk = p.id = keyed[p.course_id]
            resources = []
            for period, plan in zip(periods, plans, strict=True):
                for slot, status in zip(SLOTS, plan[6], strict=True):
                    resources.append(Resource(period=period, slot_kind=slot, file=files[slot], status=status,
                                              findings=[], evaluated_spec=judged[(plan[7], slot)],
                                              attached_by_id=plan[0].lead_teacher_id))
            _insert(Resource, resources, 5000)
            summary.courses += len(courses)
            summary.resources += len(resources)

            entries, returned = [], []
            for course, _member, submitted, r_school, r_county, r_city, _s, _stage in plans:
                if not submitted:
                    continue
                school_id, node_id = course.school_id, course.node_id
                county_id = county_of[school_id]
                city_id = city_of[county_id]
                state, rank = EntryState.PENDING, None
                if r_school < 0.40:
                    rank = try_recommend("school", school_id, node_id)
                    state = EntryState.RECOMMENDED if rank else EntryState.DECLINED
                elif r_school < 0.48:
                    state = EntryState.DECLINED
                elif r_school < 0.52:
                    state = EntryState.RETURNED
                    returned.append(course.pk)
                entries.append(Entry(campaign_id=levels["school"].campaign_id, course=course, level=levels["school"], unit_id=school_id, node_id=node_id,
                                     state=state, rank=rank))
                if state != EntryState.RECOMMENDED:
                    continue
                state, rank = EntryState.PENDING, None
                if r_county < 0.20:
                    rank = try_recommend("county", county_id, node_id)
                    state = EntryState.RECOMMENDED if rank else EntryState.DECLINED
                elif r_county < 0.30:
                    state = EntryState.DECLINED
                entries.append(Entry(campaign_id=levels["county"].campaign_id, course=course, level=levels["county"], unit_id=county_id, from_unit_id=school_id,
                                     node_id=node_id, state=state, rank=rank))
                if state != EntryState.RECOMMENDED:
                    continue
                state, rank = EntryState.PENDING, None
                if r_city < 0.10:
                    rank = try_recommend("city", city_id, node_id)
                    state = EntryState.RECOMMENDED if rank else EntryState.DECLINED
                entries.append(Entry(campaign_id=levels["city"].campaign_id, course=course, level=levels["city"], unit_id=city_id, from_unit_id=county_id,
                                     node_id=node_id, state=state, rank=rank))
                if state == EntryState.RECOMMENDED:
                    entries.append(Entry(campaign_id=levels["province"].campaign_id, course=course, level=levels["province"], unit_id=province.pk,
                                         from_unit_id=city_id, node_id=node_id))
            _insert(Entry, entries, 5000)
            Course.objects.filter(pk__in=returned).update(status=CourseStatus.RETURNED, return_reason="请补充教学设计。")
            for e in entries:
                counts[e.level.kind] += 1
        say(f"schools {first + len(part):,}/{len(schools):,}: {summary.courses:,} courses "
            f"({time.perf_counter() - started:.0f} s)")
    analyze()
    summary.entries = counts
    summary.seconds = time.perf_counter() - started
    return summary


def analyze() -> None:
    """On PostgreSQL, gather the planner's statistics and set the visibility map (``VACUUM
    ANALYZE``), as autovacuum does some time after a bulk load and as one does after an import:
    without the statistics the planner guesses, and the lists of a freshly generated province took
    25–45 s instead of what they take in a running database; without the visibility map no
    index-only scan is possible (the progress board's counts read every entry row of the units
    through the heap instead of the covering index ``progress_entry_board``: at 200 k, 3,741
    buffers instead of 206 for the province's count). A database server run with
    ``autovacuum = off`` (as the development machine's) never sets it. Outside a transaction (VACUUM
    refuses one); the second run finds nothing to do and takes a moment."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            if connection.in_atomic_block:
                cursor.execute("ANALYZE")
            else:
                cursor.execute("VACUUM (ANALYZE)")


def fingerprint(campaign_id: int) -> list:
    """What a generated province is, without keys or timestamps (tests compare two runs)."""
    from courses.models import Course, Resource
    from selection.models import Entry

    courses = list(Course.objects.filter(campaign_id=campaign_id).order_by("title").values_list(
        "title", "school__code", "lead_teacher__username", "node__external_id", "status", "members__user__username"))
    resources = list(Resource.objects.filter(period__course__campaign_id=campaign_id)
                     .order_by("period__course__title", "slot_kind").values_list("period__course__title", "slot_kind",
                                                                                 "status"))
    entries = list(Entry.objects.filter(course__campaign_id=campaign_id).order_by("course__title", "level__kind")
                   .values_list("course__title", "level__kind", "unit__code", "from_unit__code", "state", "rank"))
    return [courses, resources, entries]


def main(argv: list[str]) -> int:
    """`python -m bench province [--scale S] [--seed N]`: generate into a throw-away SQLite database
    (or into JPK_DATABASE_URL) and print how long it took."""
    import argparse
    import os
    import tempfile

    parser = argparse.ArgumentParser(prog="python -m bench province", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)
    os.environ.setdefault("JPK_DATA_DIR", tempfile.mkdtemp(prefix="jpk-bench-province-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jingpinke.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    summary = generate(args.scale, args.seed, progress=print)
    print(summary.line())
    return 0
