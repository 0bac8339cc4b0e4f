"""The hot reads of submit and withdraw compiled once (``jingpinke.compiled``): the same instances,
related ones and deferred fields included, as the ORM querysets they replace; compiled once per
database, then only run; a value of another type goes through the ORM."""

import pytest
from django.db import connection, transaction

from courses import services
from courses.models import Course, Period, Resource
from courses.tests.conftest import fill
from jingpinke import compiled as reads

pytestmark = pytest.mark.django_db
BASE = "/api/v1/courses"


def _same(a, b):
    fields = [f.attname for f in type(a)._meta.concrete_fields if f.attname not in a.get_deferred_fields()]
    assert a.get_deferred_fields() == b.get_deferred_fields()
    assert [getattr(a, f) for f in fields] == [getattr(b, f) for f in fields]


def test_prepared_reads_equal_the_orm_ones(tree, course, campaign):
    fill(course, tree.teacher)
    with transaction.atomic():
        (locked,) = services._LEAD_LOCKED(course.pk, tree.teacher.pk)
        (orm,) = services._locked_qs(teacher=False).filter(pk=course.pk, lead_teacher_id=tree.teacher.pk)
        for path in ("", "campaign", "campaign.owner", "school", "school.parent", "node", "node.textbook"):
            a, b = locked, orm
            for name in filter(None, path.split(".")):
                a, b = getattr(a, name), getattr(b, name)
            _same(a, b)
        assert services._LEAD_LOCKED(course.pk, tree.other_teacher.pk) == []  # not his: nothing
    levels = services._CAMPAIGN_LEVELS(campaign.pk)
    assert [lv.pk for lv in levels] == list(campaign.levels.order_by("pk").values_list("pk", flat=True))
    for a, b in zip(levels, campaign.levels.order_by("pk")):
        _same(a, b)
    slots = services._CATEGORY_SLOTS(campaign.pk, "subject")
    assert slots and [s.pk for s in slots] == [s.pk for s in services.RequirementBook(campaign.pk).slots_of("subject")]
    assert services._CATEGORY_SLOTS(campaign.pk, "no such category") == []
    specs = services._CATEGORY_SPECS(campaign.pk, "subject")
    assert [s.pk for s in specs] == [s.pk for s in services.ProductionSpec.objects.filter(
        campaign_category__campaign=campaign, campaign_category__category="subject").order_by("stage")]
    periods = services._COURSE_PERIODS(course.pk)
    assert [p.pk for p in periods] == list(course.periods.order_by("number").values_list("pk", flat=True))
    resources = services._COURSE_RESOURCES(course.pk)
    orm = {r.pk: r for r in Resource.objects.filter(period__course=course).select_related("file").defer("file__text")}
    assert resources and {r.pk for r in resources} == set(orm)
    for r in resources:
        _same(r, orm[r.pk])
        _same(r.file, orm[r.pk].file)
        assert "text" in r.file.get_deferred_fields()


def test_compiled_once_then_only_run(tree, course, client, bearer, monkeypatch):
    """After a first submit and withdraw, the next ones compile none of the prepared reads again."""
    fill(course, tree.teacher)
    auth = bearer(tree.teacher)
    for action in ("submit", "withdraw"):
        assert client.post(f"{BASE}/{course.pk}/{action}", **auth).status_code == 200
    compiled = []
    real = reads.Prepared._compile
    monkeypatch.setattr(reads.Prepared, "_compile", lambda self, conn: compiled.append(self) or real(self, conn))
    for action in ("submit", "withdraw"):
        r = client.post(f"{BASE}/{course.pk}/{action}", **auth)
        assert r.status_code == 200 and r.json() == client.get(f"{BASE}/{course.pk}", **auth).json()
    assert compiled == []
    assert any(key[1] == connection.vendor for key in services._LEAD_LOCKED._compiled)


def test_a_value_of_another_type_goes_through_the_orm(course):
    assert [p.pk for p in services._COURSE_PERIODS(str(course.pk))] == [p.pk for p in Period.objects.filter(course=course)]
    marks = reads.Prepared(lambda pk: Course.objects.filter(pk=pk, lead_teacher_id=pk), int)  # found twice
    assert [c.pk for c in marks(course.pk)] == [] and marks._compiled[("default", connection.vendor)] is None


def test_the_school_deadline_is_the_one_deadlines_for_resolves(tree, campaign, django_assert_num_queries):
    """Overrides on the school's path (its county's, its own) and off it (another county's): the
    school level's deadline and its source as ``deadlines_for`` resolves them from its own reads."""
    from datetime import timedelta

    from campaigns.models import Campaign, DeadlineOverride, Level
    from campaigns.services import deadlines_for
    from orgs.models import UnitKind

    school_level = Level.objects.get(campaign=campaign, kind="school")
    base = school_level.deadline
    DeadlineOverride.objects.create(level=school_level, unit=tree.county, deadline=base - timedelta(days=3))
    DeadlineOverride.objects.create(level=school_level, unit=tree.other_county, deadline=base - timedelta(days=9))
    for school, own in ((tree.school, None), (tree.school, base - timedelta(days=1)), (tree.other_school, None)):
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


def test_a_list_page_reads_what_the_orm_read(tree, campaign, node, course, client, bearer, monkeypatch):
    """``load_listed`` and ``row_extras`` by prepared reads (per shape) show what their ORM reads
    showed; the second page request compiles nothing."""
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

    prepared_page = page()
    monkeypatch.setattr(reads, "by_shape", lambda *a, **k: None)  # the ORM everywhere
    orm_page = page()
    assert prepared_page[0] == orm_page[0] and prepared_page[2:] == orm_page[2:]
    assert {k: (v.level.pk, v.deadline) for k, v in prepared_page[1].items()} == {
        k: (v.level.pk, v.deadline) for k, v in orm_page[1].items()}
    assert prepared_page[2][course.pk] and any(prepared_page[3].values())
    monkeypatch.undo()
    auth = bearer(tree.teacher)
    first = client.get(BASE, **auth).json()
    compiled = []
    real = reads.Prepared._compile
    monkeypatch.setattr(reads.Prepared, "_compile", lambda self, conn: compiled.append(self) or real(self, conn))
    assert client.get(BASE, **auth).json() == first and compiled == []
    assert {i["id"] for i in first["items"]} == set(ids)


def test_the_resources_of_a_probed_file_by_a_prepared_read(tree, course):
    """``reevaluate_file``'s read (once per probed file, in the task worker): the resources using the
    file with their 课时, course, node and textbook, as the ORM read them; a uuid is a parameter
    of its own kind on each database."""
    import uuid

    fill(course, tree.teacher)
    resource = Resource.objects.filter(period__course=course).select_related("file").first()
    (got,) = services._FILE_RESOURCES(resource.file_id)
    (orm,) = Resource.objects.select_related("period__course__node__textbook").filter(file_id=resource.file_id)
    for a, b in ((got, orm), (got.period, orm.period), (got.period.course, orm.period.course),
                 (got.period.course.node.textbook, orm.period.course.node.textbook)):
        _same(a, b)
    assert services._FILE_RESOURCES(uuid.uuid4()) == []
    assert services.reevaluate_file(resource.file) == 0  # judged already: nothing changes


def test_the_entries_a_submission_and_a_withdrawal_read(tree, course):
    """selection's reads of a course's entries in submit (with level and unit, in the order the
    returned one is chosen in) and withdraw (with the level's kind), prepared: as the ORM read them."""
    from django.db.models import F

    from selection import services as selection
    from selection.models import Entry

    fill(course, tree.teacher)
    services.submit(tree.teacher, course.pk)
    got = selection._course_entries(course.pk)
    orm = list(Entry.objects.filter(course=course).select_related("level", "unit")
               .order_by("level_id", "unit__path", "rank", "pk"))
    assert got and [e.pk for e in got] == [e.pk for e in orm]
    for a, b in zip(got, orm):
        _same(a, b), _same(a.level, b.level), _same(a.unit, b.unit)
    kinds = selection._ENTRIES_WITH_LEVEL_KIND(course.pk)
    assert [(e.pk, e.level_kind) for e in kinds] == list(
        Entry.objects.filter(course=course).annotate(level_kind=F("level__kind")).values_list("pk", "level_kind"))
    services.withdraw(tree.teacher, course.pk)
    assert selection._course_entries(course.pk) == [] and not Entry.objects.filter(course=course).exists()
