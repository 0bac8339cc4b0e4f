"""resolve_quotas: every row a pick must satisfy (the subject row and the category-wide row it sits
inside), each resolved through the tiers on its own (unit override, owner-kind default, default)."""

import pytest

from campaigns import services
from campaigns.rules import QuotaRow, Recommender, resolve_quotas


def q(id, level, limit, unit=None, owner="", category="subject", subject="", per_subject=False):
    return QuotaRow(id, level, unit, owner, category, subject, per_subject, limit)


COUNTY = Recommender(10, "county")
CITY_SCHOOL = Recommender(20, "school", "city")
COUNTY_SCHOOL = Recommender(21, "school", "county")
WIDE, MATH = q(1, "county", 25), q(2, "county", 3, subject="数学")


def test_a_subject_pick_is_limited_by_its_subject_row_and_the_category_row():
    rows = [WIDE, MATH, q(3, "county", 1, category="special")]
    assert resolve_quotas(rows, COUNTY, "subject", "数学") == [MATH, WIDE]
    assert resolve_quotas(rows, COUNTY, "subject", "语文") == [WIDE]
    assert resolve_quotas(rows, COUNTY, "subject") == [WIDE]  # the whole category
    assert resolve_quotas(rows, COUNTY, "special", "语文") == [rows[2]]
    assert resolve_quotas(rows, COUNTY, "experiment", "化学") == []


def test_an_override_of_the_category_row_replaces_only_the_default_category_row():
    own_wide = q(5, "county", 30, unit=10)
    rows = [WIDE, MATH, own_wide]
    assert resolve_quotas(rows, COUNTY, "subject", "数学") == [MATH, own_wide]  # default 数学 3 still applies
    assert resolve_quotas(rows, COUNTY, "subject") == [own_wide]
    assert resolve_quotas(rows, Recommender(11, "county"), "subject", "数学") == [MATH, WIDE]  # another county


def test_an_override_of_a_subject_row_replaces_only_the_default_subject_row():
    own_math = q(6, "county", 5, unit=10, subject="数学")
    rows = [WIDE, MATH, own_math]
    assert resolve_quotas(rows, COUNTY, "subject", "数学") == [own_math, WIDE]
    assert resolve_quotas(rows, COUNTY, "subject", "语文") == [WIDE]


def test_per_subject_rows_and_owner_kind_defaults():
    per = q(4, "school", 1, owner="city", per_subject=True)
    general = q(7, "school", 3)
    rows = [per, general, q(8, "school", 2, owner="city", subject="物理")]
    assert resolve_quotas(rows, CITY_SCHOOL, "subject", "物理") == [rows[2], per]  # both count 物理 alone
    assert resolve_quotas(rows, CITY_SCHOOL, "subject", "语文") == [per]
    assert resolve_quotas(rows, CITY_SCHOOL, "subject") == []  # per subject: no whole-category limit
    assert resolve_quotas(rows, COUNTY_SCHOOL, "subject", "物理") == [general]  # owner rows are not his
    # A unit's own per-subject override of the category row replaces the default category row.
    own_per = q(9, "school", 2, unit=20, per_subject=True)
    assert resolve_quotas(rows + [own_per], CITY_SCHOOL, "subject", "语文") == [own_per]


def test_other_levels_rows_never_apply():
    assert resolve_quotas([q(1, "city", 5), q(2, "city", 1, subject="数学")], COUNTY, "subject", "数学") == []


@pytest.mark.django_db
def test_effective_quota_lists_every_row_that_applies(client, tree, zhanjiang, bearer):
    services.set_quota_override(tree.city_admin, zhanjiang, level_kind="county", unit=tree.county, category="subject",
                                subject="数学", limit=3)
    rows = services.quotas_for(zhanjiang, tree.county, "subject", "数学")
    assert [(q.subject, q.limit, q.unit_id) for q in rows] == [("数学", 3, tree.county.pk), ("", 25, None)]
    assert [q.limit for q in services.quotas_for(zhanjiang, tree.county, "subject", "语文")] == [25]
    eff = client.get(f"/api/v1/campaigns/{zhanjiang.pk}/quota?unit_id={tree.county.pk}&category=subject&subject=数学",
                     **bearer(tree.city_admin)).json()
    assert (eff["limit"], [(q["subject"], q["limit"]) for q in eff["applies"]]) == (3, [("数学", 3), ("", 25)])


@pytest.mark.django_db
def test_quota_page_shows_every_row_a_subject_pick_must_fit(client, tree, zhanjiang):
    services.set_quota_override(tree.city_admin, zhanjiang, level_kind="county", unit=tree.county, category="subject",
                                subject="数学", limit=3)
    client.force_login(tree.city_admin)
    page = client.get(f"/campaigns/{zhanjiang.pk}/quotas/?unit={tree.county.pk}&subject=数学")
    assert [(label, [q.limit for q in rows]) for label, rows in page.context["shown_applies"]] == [("学科课程", [3, 25])]
    assert "学科课程须同时满足：数学 3；类别合计 25" in page.text
