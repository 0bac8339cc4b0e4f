"""``jingpinke.sql.Compiled``, the one mechanism for reads of fixed shape compiled once: a read
compiled once and run again with new values answers what the queryset it was built from answers
(rows, converted as the ORM converts them, and model instances: ``select_related`` ones, deferred
fields and annotations included), on SQLite and PostgreSQL, for int, string, uuid and aware
datetime values and lists of them; the SQL is not compiled again for the same shape, a shape that
cannot be compiled raises (no fallback to the ORM), the shapes kept are bounded, and on PostgreSQL
its statement is prepared. Then its call sites: the teachers' reads of submit, withdraw, a list
page and a package, the task worker's, each as the ORM read them."""

import uuid
from datetime import date, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.db.models import Count, F
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from courses import services
from courses.models import Period, Resource
from courses.tests.conftest import bearer, campaign, course, fill, node  # noqa: F401 (fixtures)
from jingpinke.sql import Compiled, InIds
from media.models import StoredFile
from orgs.models import Unit

pytestmark = pytest.mark.django_db
BASE = "/api/v1/courses"


@pytest.fixture
def units():
    root = Unit.objects.create(name="省", code="C-44", kind="province", path="/", depth=0)
    root.path = f"/{root.pk}/"
    root.save()
    made = [root]
    for i in range(4):
        u = Unit.objects.create(name=f"市{i}", code=f"C-44{i:02d}", kind="city", parent=root,
                                path="", depth=1, sort_order=i, is_active=i != 2)
        u.path = f"{root.path}{u.pk}/"
        u.save()
        made.append(u)
    return made


class Compiles:
    """How many times Django compiles a query while it is active."""

    def __init__(self, monkeypatch):
        self.n = 0
        original = SQLCompiler.as_sql

        def counted(compiler, *args, **kwargs):
            self.n += 1
            return original(compiler, *args, **kwargs)

        monkeypatch.setattr(SQLCompiler, "as_sql", counted)


def _same(a, b):
    """The same row, deferred fields included."""
    fields = [f.attname for f in type(a)._meta.concrete_fields if f.attname not in a.get_deferred_fields()]
    assert a.get_deferred_fields() == b.get_deferred_fields()
    assert [getattr(a, f) for f in fields] == [getattr(b, f) for f in fields]


# --- the mechanism -----------------------------------------------------------------------------------
def by_kind_and_ids(kind, ids):
    return (Unit.objects.filter(InIds("id", ids), kind=kind).order_by("sort_order", "id")
            .values_list("id", "name", "parent__name", "path"))


def test_rows_are_the_querysets_for_every_value(units, monkeypatch):
    read = Compiled(by_kind_and_ids)
    ids = [u.pk for u in units]
    for kind, chosen in (("city", ids), ("city", ids[1:3]), ("province", ids), ("city", ids[2:3]), ("city", [])):
        assert read.rows(kind, chosen) == list(by_kind_and_ids(kind, chosen)), (kind, chosen)
    compiles = Compiles(monkeypatch)
    with CaptureQueriesContext(connection) as queries:
        assert read.rows("city", ids[1:3]) == [(u.pk, u.name, "省", u.path) for u in units[1:3]]
    assert compiles.n == 0 and len(queries.captured_queries) == 1


def test_rows_are_converted_as_the_orm_converts_them(units):
    """SQLite answers a datetime as text and a boolean as an integer: the backend's and the fields'
    converters turn them back, as ``values_list`` does (also an aggregate's and an annotation's)."""
    def build(pk):
        return (Unit.objects.filter(parent_id=pk).annotate(n=Count("children"), twice=F("sort_order") * 2)
                .order_by("id").values_list("id", "is_active", "n", "twice"))

    read = Compiled(build)
    got = read.rows(units[0].pk)
    assert got == list(build(units[0].pk)) and [row[1] for row in got] == [True, True, False, True]
    assert all(type(row[1]) is bool for row in got)
    sf = Compiled(lambda pk: StoredFile.objects.filter(pk=pk).values_list("created_at", "size"))
    f = StoredFile.objects.create(owner=_owner(), storage_key="k-conv", size=7, sha256="a" * 64)
    ((at, size),) = sf.rows(f.pk)
    assert (at, size) == (StoredFile.objects.get(pk=f.pk).created_at, 7) and at.tzinfo is not None


def test_instances_carry_their_related_rows_as_select_related_does(units, django_assert_num_queries):
    read = Compiled(lambda pk: Unit.objects.select_related("parent").filter(pk=pk).order_by()[:1])
    for unit in units:
        with django_assert_num_queries(1):
            found = read.first(unit.pk)
            assert (found.pk, found.name, found.parent.name if found.parent_id else None) == (
                unit.pk, unit.name, unit.parent.name if unit.parent_id else None)
        assert not found._state.adding and found._state.db == "default"
        _same(found, unit)
    assert read.first(-5) is None


def test_instances_carry_annotations_and_deferred_fields(units, django_assert_num_queries):
    def build(pk):
        return (Unit.objects.filter(parent_id=pk).annotate(parent_code=F("parent__code"), n=Count("children"))
                .defer("address").order_by("id"))

    read = Compiled(build)
    with django_assert_num_queries(1):
        got = read.instances(units[0].pk)
    orm = list(build(units[0].pk))
    assert [u.pk for u in got] == [u.pk for u in orm] == [u.pk for u in units[1:]]
    for a, b in zip(got, orm, strict=True):
        _same(a, b)
        assert (a.parent_code, a.n) == (b.parent_code, b.n) == ("C-44", 0)
        assert a.get_deferred_fields() == {"address"}


def test_lists_of_texts_and_single_texts_are_parameters(units):
    read = Compiled(lambda paths, code: Unit.objects.filter(path__in=paths).exclude(code=code).order_by("id")
                    .values_list("code", flat=False))
    paths = [u.path for u in units]
    assert read.rows(paths, "C-4401") == [(u.code,) for u in units if u.code != "C-4401"]
    assert read.rows(paths[:2], "C-44") == [(units[1].code,)]


def test_in_lists_of_every_length_each_their_own_shape(units, monkeypatch):
    """``__in`` lists are one parameter per item (on every database): a shape per length, each run
    again without compiling; a value may be used more than once."""
    def build(ids, pk):
        return Unit.objects.filter(pk__in=ids).exclude(pk=pk).exclude(parent_id=pk).order_by("id").values_list("id")

    read = Compiled(build)
    ids = [u.pk for u in units]
    for n in range(1, len(ids) + 1):
        for chosen in (ids[:n], ids[-n:]):
            assert read.rows(chosen, ids[0]) == list(build(chosen, ids[0])), chosen
    assert len(read.shapes) == len(ids)
    compiles = Compiles(monkeypatch)
    assert read.rows(ids[1:4], ids[2]) == [(ids[1],), (ids[3],)] and compiles.n == 0
    twice = Compiled(lambda pk: Unit.objects.filter(pk=pk, parent_id=pk).values_list("id"))  # found twice
    assert twice.rows(ids[1]) == [] and twice.rows(ids[0]) == []


def _owner():
    from orgs.tests.factories import UserFactory

    return UserFactory()


def test_uuid_and_aware_datetime_values(monkeypatch):
    """A uuid is a parameter as itself (PostgreSQL) or as its hex digits (SQLite), an aware datetime
    as itself or as the text SQLite's backend adapts it to (UTC): the runs put each value in that
    form, whatever its time zone; a list of uuids too."""
    owner = _owner()
    now = timezone.now().replace(microsecond=123_456)
    files = [StoredFile.objects.create(owner=owner, storage_key=f"k{i}", size=i, sha256="f" * 64) for i in range(4)]
    for i, f in enumerate(files):
        StoredFile.objects.filter(pk=f.pk).update(created_at=now - timedelta(minutes=10 - i))

    def build(sha, at, pk):
        return StoredFile.objects.filter(sha256=sha, created_at__lte=at).exclude(pk=pk).order_by("created_at")

    read = Compiled(build)
    shanghai = timezone.get_fixed_timezone(8 * 60)
    for at, pk in ((now, files[0].pk), (now - timedelta(minutes=8), files[3].pk),
                   ((now - timedelta(minutes=8)).astimezone(shanghai), files[1].pk),
                   (now - timedelta(minutes=7, microseconds=1), uuid.uuid4())):
        assert [f.pk for f in read.instances("f" * 64, at, pk)] == [f.pk for f in build("f" * 64, at, pk)], (at, pk)
    # to the microsecond: the file of that very time is in, the one a microsecond later is not
    assert [f.pk for f in read.instances("f" * 64, now - timedelta(minutes=8), files[1].pk)] == [files[0].pk, files[2].pk]
    assert [f.pk for f in read.instances("f" * 64, now - timedelta(minutes=7, microseconds=1), files[0].pk)] == [
        files[1].pk, files[2].pk]
    assert read.instances("0" * 64, now, files[0].pk) == []
    by_ids = Compiled(lambda ids: StoredFile.objects.filter(pk__in=ids).order_by("size").values_list("size"))
    assert by_ids.rows([files[2].pk, files[0].pk, uuid.uuid4()]) == [(0,), (2,)]
    assert by_ids.rows([files[3].pk]) == [(3,)]
    compiles = Compiles(monkeypatch)
    assert [f.pk for f in read.instances("f" * 64, now.astimezone(shanghai), files[2].pk)] == [
        files[0].pk, files[1].pk, files[3].pk] and compiles.n == 0
    with pytest.raises(TypeError, match="naive"):  # a naive datetime: never what was compiled
        read.instances("f" * 64, now.replace(tzinfo=None), files[0].pk)


def test_a_shape_that_cannot_be_compiled_is_refused(units):
    """No silent fallback to the ORM: a value of another kind, one the ORM transforms or that leaves
    no parameter, prefetches, the wrong way to read it, all raise at the first call."""
    with pytest.raises(ValueError, match="do not reach the SQL"):
        Compiled(lambda name: Unit.objects.filter(name__contains=name).values_list("id")).rows("市")
    for value in (True, None, 1.5, date(2024, 1, 1), datetime(2024, 1, 1), [1, "2"]):
        with pytest.raises(TypeError):
            Compiled(lambda v: Unit.objects.filter(pk=v).values_list("id")).rows(value)
    with pytest.raises(ValueError):  # a string where the column is an integer
        services._COURSE_PERIODS.instances(str(units[0].pk))
    by_pk = Compiled(lambda pk: Unit.objects.filter(pk=pk).values_list("id"))
    assert by_pk.rows(units[0].pk) == [(units[0].pk,)]
    with pytest.raises(ValueError):  # a shape per type of value: a string is not run as the int's
        by_pk.rows(str(units[0].pk))
    with pytest.raises(ValueError, match="empty"):
        Compiled(lambda ids: Unit.objects.filter(pk__in=ids).values_list("id")).rows([])
    with pytest.raises(ValueError, match="prefetch"):
        Compiled(lambda pk: Unit.objects.filter(pk=pk).prefetch_related("children")).instances(units[0].pk)
    with pytest.raises(TypeError, match="values_list"):
        Compiled(lambda pk: Unit.objects.filter(pk=pk)).rows(units[0].pk)
    with pytest.raises(TypeError, match="values_list"):
        Compiled(lambda pk: Unit.objects.filter(pk=pk).values_list("id")).instances(units[0].pk)
    with pytest.raises(TypeError, match="values_list"):
        Compiled(lambda pk: Unit.objects.filter(pk=pk).values_list("id", flat=True)).rows(units[0].pk)


def test_the_shapes_kept_are_bounded(units, monkeypatch):
    """At most ``max_shapes`` per read: the oldest compiled goes for a new one (and is compiled
    again when asked again); the answers stay right."""
    def build(ids):
        return Unit.objects.filter(pk__in=ids).order_by("id").values_list("id")

    read = Compiled(build, max_shapes=3)
    assert Compiled(build).max_shapes == Compiled.MAX_SHAPES == 64
    ids = [u.pk for u in units]
    for n in range(1, 6):
        assert read.rows(ids[:n]) == [(pk,) for pk in ids[:n]]
        assert len(read.shapes) == min(n, 3)
    assert [key[1][0] for key in read.shapes] == [3, 4, 5]
    compiles = Compiles(monkeypatch)
    assert read.rows(ids[1:5]) == [(pk,) for pk in ids[1:5]] and compiles.n == 0
    assert read.rows(ids[:1]) == [(ids[0],)] and compiles.n == 1
    assert [key[1][0] for key in read.shapes] == [4, 5, 1]


@pytest.mark.postgres
def test_on_postgresql_a_compiled_read_is_prepared_for_the_connection(units):
    """PostgreSQL parses and plans it once per connection (psycopg prepares it, its values bound on
    the server); it is logged with its values in place, like Django's own queries."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL; run with JPK_DATABASE_URL=postgres://…")
    read = Compiled(by_kind_and_ids)
    ids = [u.pk for u in units]
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert len(read.rows("city", ids)) == 4
    assert all(f"= ANY('{{{ids[0]}," in q["sql"] and "$1" not in q["sql"] for q in queries.captured_queries)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                       ['%FROM "orgs_unit"%= ANY($1::bigint[])%'])
        assert cursor.fetchone()[0] == 1
    owner = _owner()
    f = StoredFile.objects.create(owner=owner, storage_key="k-pg", size=1, sha256="e" * 64)
    by_file = Compiled(lambda sha, at, pk: StoredFile.objects.filter(sha256=sha, created_at__lte=at).exclude(pk=pk)
                       .values_list("size"))
    for _ in range(3):
        assert by_file.rows("e" * 64, timezone.now(), uuid.uuid4()) == [(1,)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, parameter_types::text FROM pg_prepared_statements WHERE statement LIKE %s",
                       ['%FROM "media_storedfile"%'])
        found = cursor.fetchall()
    assert len(found) == 1, found
    types = found[0][1]
    assert "uuid" in types and "timestamp with time zone" in types, types
    assert f.pk


# --- its call sites ----------------------------------------------------------------------------------
def test_the_courses_reads_equal_the_orm_ones(tree, course, campaign):  # noqa: F811
    fill(course, tree.teacher)
    with transaction.atomic():
        (locked,) = services._LEAD_LOCKED.instances(course.pk, tree.teacher.pk)
        (orm,) = services._locked_qs(teacher=False).filter(pk=course.pk, lead_teacher_id=tree.teacher.pk)
        for path in ("", "campaign", "campaign.owner", "school", "school.parent", "node", "node.textbook"):
            a, b = locked, orm
            for name in filter(None, path.split(".")):
                a, b = getattr(a, name), getattr(b, name)
            _same(a, b)
        assert services._LEAD_LOCKED.instances(course.pk, tree.other_teacher.pk) == []  # not his: nothing
    levels = services._CAMPAIGN_LEVELS.instances(campaign.pk)
    assert [lv.pk for lv in levels] == list(campaign.levels.order_by("pk").values_list("pk", flat=True))
    for a, b in zip(levels, campaign.levels.order_by("pk"), strict=True):
        _same(a, b)
    slots = services._CATEGORY_SLOTS.instances(campaign.pk, "subject")
    assert slots and [s.pk for s in slots] == [s.pk for s in services.RequirementBook(campaign.pk).slots_of("subject")]
    assert services._CATEGORY_SLOTS.instances(campaign.pk, "no such category") == []
    specs = services._CATEGORY_SPECS.instances(campaign.pk, "subject")
    assert [s.pk for s in specs] == [s.pk for s in services.ProductionSpec.objects.filter(
        campaign_category__campaign=campaign, campaign_category__category="subject").order_by("stage")]
    periods = services._COURSE_PERIODS.instances(course.pk)
    assert [p.pk for p in periods] == list(course.periods.order_by("number").values_list("pk", flat=True))
    for a, b in zip(periods, Period.objects.filter(course=course).order_by("number"), strict=True):
        _same(a, b)
    resources = services._COURSE_RESOURCES.instances(course.pk)
    orm = {r.pk: r for r in Resource.objects.filter(period__course=course).select_related("file").defer("file__text")}
    assert resources and {r.pk for r in resources} == set(orm)
    for r in resources:
        _same(r, orm[r.pk])
        _same(r.file, orm[r.pk].file)
        assert "text" in r.file.get_deferred_fields()


def test_submit_and_withdraw_compile_once_then_only_run(tree, course, client, bearer, monkeypatch):  # noqa: F811
    """After a first submit and withdraw, the next ones compile none of their reads again."""
    fill(course, tree.teacher)
    auth = bearer(tree.teacher)
    for action in ("submit", "withdraw"):
        assert client.post(f"{BASE}/{course.pk}/{action}", **auth).status_code == 200
    compiled = []
    real = Compiled._compile
    monkeypatch.setattr(Compiled, "_compile", lambda self, *a: compiled.append(self) or real(self, *a))
    for action in ("submit", "withdraw"):
        r = client.post(f"{BASE}/{course.pk}/{action}", **auth)
        assert r.status_code == 200 and r.json() == client.get(f"{BASE}/{course.pk}", **auth).json()
    assert compiled == []
    assert any(key[0] == "default" for key in services._LEAD_LOCKED.shapes)


def test_the_school_deadline_is_the_one_deadlines_for_resolves(tree, campaign, django_assert_num_queries):  # noqa: F811
    """Overrides on the school's path (its county's, its own) and off it (another county's): the
    school level's deadline and its source as ``deadlines_for`` resolves them from its own reads."""
    from campaigns.models import Campaign, DeadlineOverride, Level
    from campaigns.services import deadlines_for
    from orgs.models import UnitKind

    school_level = Level.objects.get(campaign=campaign, kind="school")
    base = school_level.deadline
    DeadlineOverride.objects.create(level=school_level, unit=tree.county, deadline=base - timedelta(days=3))
    DeadlineOverride.objects.create(level=school_level, unit=tree.other_county, deadline=base - timedelta(days=9))
    for school, own in ((tree.school, None), (tree.school, base - timedelta(days=1)), (tree.other_school, None),
                        (tree.city_school, None)):
        if own is not None:
            DeadlineOverride.objects.create(level=school_level, unit=school, deadline=own)
        fresh = Campaign.objects.get(pk=campaign.pk)
        expected = next(r for r in deadlines_for(Campaign.objects.get(pk=campaign.pk), school)
                        if r.level.kind == UnitKind.SCHOOL)
        with django_assert_num_queries(2):  # the levels, the overrides on the path
            got = services.school_deadline(fresh, school)
        assert (got.level.pk, got.deadline, got.deadline_source, got.deadline_label) == (
            expected.level.pk, expected.deadline, expected.deadline_source, expected.deadline_label)
        with django_assert_num_queries(1):  # the levels now read with the campaign
            assert services.school_deadline(fresh, school).deadline == expected.deadline


def _the_orm_everywhere(monkeypatch):
    """Every ``Compiled`` read answered by its queryset through the ORM."""
    monkeypatch.setattr(Compiled, "rows", lambda self, *values, using="default": list(self.build(*values)))
    monkeypatch.setattr(Compiled, "instances", lambda self, *values, using="default": list(self.build(*values)))


def test_a_list_page_reads_what_the_orm_read(tree, campaign, node, course, client, bearer, monkeypatch):  # noqa: F811
    """``load_listed`` and ``row_extras`` by compiled reads (per shape: the lengths of their lists)
    show what their ORM reads showed; the second page request compiles nothing."""
    from courses.models import CourseMember

    second = services.start_course(tree.teacher, campaign, category="subject", node_id=node.pk, title="天地人二", periods=1)
    theirs = services.start_course(tree.other_teacher, campaign, category="subject", node_id=node.pk, title="他人的课")
    CourseMember.objects.create(course=theirs, user=tree.teacher, order=1)
    CourseMember.objects.create(course=course, user=tree.other_teacher, order=1)
    ids = [second.pk, course.pk, theirs.pk]

    def page():
        rows = list(services.load_listed(ids))
        extras = services.row_extras(rows)
        return ([(c.pk, c.campaign.title, c.school.name, c.node.textbook.label, c.lead_teacher.display_name,
                  [lv.pk for lv in c.campaign.levels.all()]) for c in rows],
                extras.deadlines, extras.members, extras.same_node)

    compiled_page = page()
    _the_orm_everywhere(monkeypatch)
    orm_page = page()
    assert compiled_page[0] == orm_page[0] and compiled_page[2:] == orm_page[2:]
    assert {k: (v.level.pk, v.deadline) for k, v in compiled_page[1].items()} == {
        k: (v.level.pk, v.deadline) for k, v in orm_page[1].items()}
    assert compiled_page[2][course.pk] and any(compiled_page[3].values())
    monkeypatch.undo()
    assert page()[0] == compiled_page[0]
    auth = bearer(tree.teacher)
    first = client.get(BASE, **auth).json()
    compiled = []
    real = Compiled._compile
    monkeypatch.setattr(Compiled, "_compile", lambda self, *a: compiled.append(self) or real(self, *a))
    assert client.get(BASE, **auth).json() == first and compiled == []
    assert {i["id"] for i in first["items"]} == set(ids)


def test_the_resources_of_a_probed_file_by_a_compiled_read(tree, course):  # noqa: F811
    """``reevaluate_file``'s read (once per probed file, in the task worker): the resources using the
    file with their 课时, course, node and textbook, as the ORM read them; a uuid is a parameter
    of its own kind on each database."""
    fill(course, tree.teacher)
    resource = Resource.objects.filter(period__course=course).select_related("file").first()
    (got,) = services._FILE_RESOURCES.instances(resource.file_id)
    (orm,) = Resource.objects.select_related("period__course__node__textbook").filter(file_id=resource.file_id)
    for a, b in ((got, orm), (got.period, orm.period), (got.period.course, orm.period.course),
                 (got.period.course.node.textbook, orm.period.course.node.textbook)):
        _same(a, b)
    assert services._FILE_RESOURCES.instances(uuid.uuid4()) == []
    assert services.reevaluate_file(resource.file) == 0  # judged already: nothing changes


def test_an_upload_is_read_by_its_owner_only(tree):
    """``media.services.get_upload``'s read by a uuid and the owner's id."""
    from jingpinke.errors import ServiceError
    from media import services as media
    from media.models import Upload

    upload = Upload.objects.create(owner=tree.teacher, length=4, partial_path="p")
    assert media.get_upload(tree.teacher, upload.pk) == upload
    for user, pk in ((tree.other_teacher, upload.pk), (tree.teacher, uuid.uuid4())):
        with pytest.raises(ServiceError):
            media.get_upload(user, pk)


def test_the_entries_a_submission_and_a_withdrawal_read(tree, course):  # noqa: F811
    """selection's reads of a course's entries in submit (with level and unit, in the order the
    returned one is chosen in) and withdraw (with the level's kind), compiled: as the ORM read them."""
    from selection import services as selection
    from selection.models import Entry

    fill(course, tree.teacher)
    services.submit(tree.teacher, course.pk)
    got = selection._course_entries(course.pk)
    orm = list(Entry.objects.filter(course=course).select_related("level", "unit")
               .order_by("level_id", "unit__path", "rank", "pk"))
    assert got and [e.pk for e in got] == [e.pk for e in orm]
    for a, b in zip(got, orm, strict=True):
        _same(a, b), _same(a.level, b.level), _same(a.unit, b.unit)
    kinds = selection._ENTRIES_WITH_LEVEL_KIND.instances(course.pk)
    assert [(e.pk, e.level_kind) for e in kinds] == list(
        Entry.objects.filter(course=course).annotate(level_kind=F("level__kind")).values_list("pk", "level_kind"))
    services.withdraw(tree.teacher, course.pk)
    assert selection._course_entries(course.pk) == [] and not Entry.objects.filter(course=course).exists()

