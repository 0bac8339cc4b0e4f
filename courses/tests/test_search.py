"""The bigram index of course titles, teacher names and school names (courses/search.py): the
courses it finds are exactly those of the plain ``icontains`` test, for Latin letters of either
case, digits, LIKE's wildcards, 2 and more Chinese characters and mixtures, and it stays exact
when a title, a teacher's name or a school's name changes, however the change is written."""

from __future__ import annotations

import random

import pytest
from django.db import connection
from django.db.models import Q
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from courses import search
from courses.models import Course, SearchGram
from courses.tests.conftest import leaf
from orgs.models import Unit, UnitKind, User

pytestmark = pytest.mark.django_db

ALPHABET = "分数的意义函古诗教师00aAbBzZ1 %_\\"
CASES = ["分数", "分数的", "分数的意义", "数的", "函数", "古诗", "诗", "教师", "教师00001", "00", "001", "ab", "AB",
         "Ab", "aB", "zz", "ZZ", "a1", "数学A", "数学a", "学A", "1分", "%", "_", "%分", "a_", "\\", "a\\", " 分",
         "分 ", "分数 的", "不存在", "xyz", "分分分", "aaa", "第一小学", "小学", "湛江", "oo"]


def fold(text: str) -> str:
    """What the database folds a text to (ASCII only in these tests' texts, as Python folds it)."""
    return text.upper() if connection.vendor == "postgresql" else text.lower()


def grams_of(text: str) -> set[str]:
    text = fold(text)
    return {text[i:i + 2] for i in range(len(text) - 1)}


def reference(q: str) -> set[int]:
    return set(Course.objects.filter(Q(title__icontains=q) | Q(lead_teacher__real_name__icontains=q)
                                     | Q(school__name__icontains=q)).values_list("pk", flat=True))


def found(q: str) -> set[int]:
    return set(Course.objects.filter(pk__in=search.matching_courses(q)).values_list("pk", flat=True))


def word(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(n))


@pytest.fixture
def corpus(tree, campaign):
    """60 courses: titles, teacher names and school names from a small alphabet (so searches hit),
    plus a few written out, under two counties."""
    rng = random.Random(20261204)
    node = leaf(campaign)
    schools = [Unit.objects.create(name=name, code=f"S{i:03d}", kind=UnitKind.SCHOOL,
                                   parent=tree.county if i % 2 else tree.other_county)
               for i, name in enumerate(["湛江第一小学", "AB 学校", "分数小学", "ab%_学校"]
                                        + [word(rng, rng.randint(2, 8)) for _ in range(6)])]
    teachers = [User.objects.create_user(username=f"t{i}", password="x", real_name=name)
                for i, name in enumerate(["教师00001", "教师000012", "王AB", "A", ""]
                                         + [word(rng, rng.randint(1, 8)) for _ in range(10)])]
    titles = ["分数的意义", "古诗三首", "函数", "数学A", "ABC 分数", "分", "", "aaa分分分"]
    titles += [word(rng, rng.randint(0, 12)) for _ in range(60 - len(titles))]
    Course.objects.bulk_create([Course(campaign=campaign, category="subject", node=node, title=title,
                                       lead_teacher=teachers[i % len(teachers)], school=schools[i % len(schools)])
                                for i, title in enumerate(titles)])
    return titles


@pytest.mark.parametrize("q", CASES)
def test_the_index_finds_exactly_what_icontains_finds(corpus, q):
    if len(q) < 2:
        pytest.skip("one character: the callers keep their scan")
    assert found(q) == reference(q)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_search_finds_exactly_what_icontains_finds(corpus, data):
    """Random searches: pieces of the stored texts (changed in case) and strings from the alphabet.
    The corpus is only read, so it may be shared by the examples."""
    texts = [t for t in corpus + list(User.objects.values_list("real_name", flat=True)) if len(t) >= 2]
    piece = data.draw(st.sampled_from(texts).flatmap(
        lambda t: st.tuples(st.integers(0, len(t) - 2), st.integers(2, len(t))).map(lambda ij: t[ij[0]:ij[0] + ij[1]])))
    q = data.draw(st.one_of(st.just(piece), st.just(piece.swapcase()),
                            st.text(alphabet=ALPHABET, min_size=2, max_size=6)))
    q = q.strip()
    if len(q) >= 2:
        assert found(q) == reference(q), q


def test_the_grams_follow_every_kind_of_change(corpus, tree, campaign):
    course = Course.objects.get(title="分数的意义")
    assert course.pk in found("分数")

    course.title = "古诗词ABC"  # save()
    course.save()
    assert course.pk not in found("分数") and course.pk in found("诗词") and course.pk in found("bc")
    assert set(SearchGram.objects.filter(kind="c", obj_id=course.pk).values_list("gram", flat=True)) \
        == grams_of("古诗词ABC")

    Course.objects.filter(pk=course.pk).update(title="新标题")  # QuerySet.update
    assert course.pk not in found("诗词") and course.pk in found("标题")

    teacher = course.lead_teacher
    teacher.real_name = "欧阳修"
    teacher.save(update_fields=["real_name"])
    assert course.pk in found("欧阳") and reference("欧阳") == found("欧阳")
    User.objects.filter(pk=teacher.pk).update(real_name="司马光")
    assert course.pk not in found("欧阳") and course.pk in found("司马光")

    school = course.school
    Unit.objects.filter(pk=school.pk).update(name="雷州一中")
    assert course.pk in found("雷州") and found("雷州") == reference("雷州")

    other = Course.objects.exclude(pk=course.pk).first()
    Course.objects.filter(pk=other.pk).update(lead_teacher=teacher)  # a course changes teacher
    assert other.pk in found("司马")

    course.delete()
    assert not SearchGram.objects.filter(kind="c", obj_id=course.pk).exists()
    for q in CASES + ["司马光", "雷州", "标题"]:
        if len(q) >= 2:
            assert found(q) == reference(q), q


def test_every_row_has_exactly_its_grams(corpus):
    """The triggers' grams of every course, user and unit equal the bigrams of the folded text."""
    expected = {("c", g, pk) for pk, title in Course.objects.values_list("pk", "title") for g in grams_of(title)}
    expected |= {("u", g, pk) for pk, name in User.objects.values_list("pk", "real_name") for g in grams_of(name)}
    expected |= {("s", g, pk) for pk, name in Unit.objects.values_list("pk", "name") for g in grams_of(name)}
    assert set(SearchGram.objects.values_list("kind", "gram", "obj_id")) == expected


def test_triggers_dropped_by_a_table_remake_come_back_after_migrate(corpus):
    """SQLite drops a table's triggers when a migration remakes it; post_migrate puts them back."""
    search.uninstall(connection)
    search.ensure_triggers(using="default")
    course = Course.objects.get(title="古诗三首")
    Course.objects.filter(pk=course.pk).update(title="春晓")
    assert found("春晓") == {course.pk} and course.pk not in found("古诗")


def test_positions_cover_the_longest_searched_text():
    longest = max(Course._meta.get_field("title").max_length, User._meta.get_field("real_name").max_length,
                  Unit._meta.get_field("name").max_length)
    assert search.SEQ_MAX >= longest


def test_a_search_runs_two_queries(corpus, django_assert_num_queries):
    """The rarest bigrams per kind (one bounded query), then the courses."""
    with django_assert_num_queries(2):
        found("分数")
    with django_assert_num_queries(2):
        found("分数的意义")
    with django_assert_num_queries(1):  # no text holds 不存: nothing can match, no second query
        assert found("不存在") == set()


def test_the_entries_search_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    """The entries API with a search: session, user, scope, the bigram counts, the matching
    entries (few: their ids), the count, the page's ids and its rows; nothing at all past the
    bigram counts when no text can match. The same with 5 and with 50 courses."""
    from bench.lists import add_courses, seed

    s = seed(5, counties=2, schools_per_county=3)
    client.force_login(s.city_admin)
    url = f"/api/v1/selection/entries?campaign={s.campaign.pk}&q="
    for grown in (False, True):
        if grown:
            add_courses(s, 5, 45)
        for q, most in (("秋天", 8), ("秋天的雨", 8), ("第1区第1小学", 8), ("不存在", 5)):
            with django_assert_max_num_queries(most):
                response = client.get(url + q)
            assert response.status_code == 200
            assert (response.json()["count"] == 0) == (q == "不存在")


@pytest.mark.parametrize("cap", [1, 2])
def test_the_results_do_not_depend_on_how_far_the_bigrams_are_counted(corpus, monkeypatch, cap):
    """The count only picks which bigrams narrow the candidates (every bigram tied at the cap);
    ``icontains`` still decides, so the matches stay exact."""
    monkeypatch.setattr(search, "RARE_CAP", cap)
    for q in CASES:
        if len(q) >= 2:
            assert found(q) == reference(q), q


def test_a_broad_two_character_word_is_not_read_first(corpus, monkeypatch, django_assert_num_queries):
    """A 2-character word held by more than ``FEW`` texts of a kind goes to the list as the index
    queries at once (no query reading its rows first: it read 1,001 of them for nothing); a rarer
    one is read first. Either way the rows are exactly those of ``icontains``."""
    from courses.models import Course as C

    monkeypatch.setattr(search, "FEW", 1)
    broad = "分数"  # in 2 titles of the corpus, and a school's name
    sizes = {}
    search._rarest(broad, sizes)
    assert max(sizes.values()) > 1
    with django_assert_num_queries(1):  # the bigram counts only
        condition = search.rows_matching(C, broad, "pk")
    assert set(C.objects.filter(condition).values_list("pk", flat=True)) == reference(broad)
    rare = "古诗"
    sizes = {}
    search._rarest(rare, sizes)
    monkeypatch.setattr(search, "FEW", max(sizes.values()))  # held by FEW texts: not broad
    with django_assert_num_queries(2):  # the counts, then its rows (at most FEW: a list of ids)
        condition = search.rows_matching(C, rare, "pk")
    assert set(C.objects.filter(condition).values_list("pk", flat=True)) == reference(rare)


def test_a_search_of_the_entries_counts_up_to_its_own_cap(client, monkeypatch, django_assert_max_num_queries):
    """The entries API counts a search's matches up to ``SEARCH_COUNT_CAP`` (then says
    ``count_capped``), a list without search up to the list cap; the rows and the cursor walk
    are unchanged."""
    from bench.lists import seed
    from selection import services as selection_services

    s = seed(20, counties=2, schools_per_county=3)
    client.force_login(s.city_admin)
    url = f"/api/v1/selection/entries?campaign={s.campaign.pk}&page_size=30"
    whole = client.get(url).json()
    matching = client.get(url + "&q=秋天").json()
    assert not whole["count_capped"] and not matching["count_capped"]
    monkeypatch.setattr(selection_services, "SEARCH_COUNT_CAP", 2)
    assert matching["count"] > 2
    with django_assert_max_num_queries(8):
        capped = client.get(url + "&q=秋天").json()
    assert capped["count_capped"] and capped["count"] == 3
    assert [e["id"] for e in capped["items"]] == [e["id"] for e in matching["items"]]
    assert client.get(url).json()["count"] == whole["count"]  # no search: the list's cap
