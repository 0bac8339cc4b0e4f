"""The synthetic province of `make bench` (bench/province.py) at a tiny scale: counts, determinism,
logins. No timings are asserted."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from bench import province


def _generate(scale=0.001, seed=7):
    return province.generate(scale, seed, chunk_schools=7)


@pytest.mark.django_db
def test_counts_and_shape():
    s = _generate()
    cities, counties, schools = province.sizes(0.001)
    assert (s.cities, s.counties, s.schools) == (cities, counties, schools) == (20, 20, 20)
    assert province.sizes(1.0) == (21, 120, 20_000)
    from courses.models import Course, CourseMember, Period, Resource
    from orgs.models import Unit, User
    from selection.models import Entry

    assert Course.objects.count() == s.courses == 20 * province.COURSES_PER_SCHOOL
    assert Period.objects.count() == s.courses and CourseMember.objects.count() == s.courses
    assert Resource.objects.count() == s.resources == s.courses * len(province.SLOTS)
    # The stored check result the lists filter on matches the resources (bulk inserts skip the signals).
    from courses import compliance

    assert Course.objects.exclude(compliance="none").count() == s.courses
    assert compliance.refresh(Course.objects.all()) == 0  # nothing stale
    assert User.objects.filter(username__startswith="pv_").count() == s.users
    assert s.users == 2 + cities + counties + schools * (1 + province.TEACHERS_PER_SCHOOL)
    # Paths and depths as Unit.save would have written them.
    for unit in Unit.objects.filter(code__startswith="pv-"):
        parent_path = unit.parent.path if unit.parent_id else "/"
        assert unit.path == f"{parent_path}{unit.pk}/" and unit.depth == unit.path.count("/") - 2
    # Entries at every level; every recommended entry has its entry one level up.
    assert Entry.objects.filter(level__kind="school").count() == s.entries["school"] > 0
    assert s.entries["county"] > 0
    for e in Entry.objects.filter(state="recommended").exclude(level__kind="province").select_related("level"):
        assert Entry.objects.filter(course=e.course_id, from_unit=e.unit_id).exists()
    # A county entry sits with the school's county, a city entry with its city.
    for e in Entry.objects.filter(level__kind="county").select_related("unit", "from_unit"):
        assert e.from_unit.parent_id == e.unit_id


@pytest.mark.django_db(transaction=True)
def test_same_seed_same_data():
    first = province.fingerprint(_generate().campaign_id)
    call_command("flush", verbosity=0, interactive=False)
    second = province.fingerprint(_generate().campaign_id)
    assert first == second
    call_command("flush", verbosity=0, interactive=False)
    other = province.fingerprint(province.generate(0.001, 8, chunk_schools=7).campaign_id)
    assert other != first


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["pv_city_01", "pv_county_001", "pv_school_00001", "pv_t_00001_1"])
def test_users_log_in_with_the_known_password(client, username):
    _generate()
    response = client.post(reverse("login"), {"username": username, "password": province.PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    assert client.get(reverse("courses:list")).status_code == 200
