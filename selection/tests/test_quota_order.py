"""Quota acceptance does not depend on the order of the recommendations: a pick is checked against
every row that applies to it (its subject row and the category-wide row it sits inside)."""

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from campaigns import services as campaign_services
from campaigns.models import Level, Quota
from campaigns.rules import QuotaRow, Recommender, resolve_quotas
from jingpinke.errors import ServiceError
from selection import rules, services
from selection.rules import Pick, QuotaLimit, QuotaUse
from selection.tests.helpers import entry_at, up_to_county

SUBJECTS = ("语文", "数学", "物理")
COUNTY = Recommender(10, "county")


def limits_from(rows):
    def limit_for(category, subject):
        return [QuotaLimit(r.limit, r.subject, r.per_subject) for r in resolve_quotas(rows, COUNTY, category, subject)]
    return limit_for


def accept_in_order(picks, limit_for):
    accepted = []
    for p in picks:
        if rules.quota_decision(accepted, p, limit_for(p.category, p.subject)).ok:
            accepted.append(p)
    return accepted


def test_a_subject_pick_cannot_push_the_category_past_its_quota():
    """学科课程 2 overall, 数学 1: after two 语文 picks a 数学 pick is refused (it used to pass)."""
    lf = limits_from([QuotaRow(1, "county", None, "", "subject", "", False, 2),
                      QuotaRow(2, "county", None, "", "subject", "数学", False, 1)])
    current = [Pick(1, "subject", "语文"), Pick(2, "subject", "语文")]
    decision = rules.quota_decision(current, Pick(3, "subject", "数学"), lf("subject", "数学"))
    assert not decision.ok and decision.message == "名额已满：学科课程 已推荐 2/2。请先撤销其他推荐，或联系上级调整名额。"
    decision = rules.quota_decision([Pick(1, "subject", "数学")], Pick(3, "subject", "数学"), lf("subject", "数学"))
    assert decision.message == "名额已满：学科课程（数学） 已推荐 1/1。请先撤销其他推荐，或联系上级调整名额。"
    assert rules.quota_decision([Pick(1, "subject", "语文")], Pick(3, "subject", "数学"), lf("subject", "数学")).ok
    assert rules.quota_violations(current + [Pick(3, "subject", "数学")], lf) != []


rows_strategy = st.lists(
    st.builds(lambda i, own, subject, per, limit: QuotaRow(i, "county", 10 if own else None, "", "subject", subject,
                                                            per and not subject, limit),
              st.integers(0, 10**6), st.booleans(), st.sampled_from(("",) + SUBJECTS), st.booleans(),
              st.integers(0, 4)),
    max_size=5)
picks_strategy = st.lists(st.sampled_from(SUBJECTS), max_size=9).map(
    lambda subjects: [Pick(i, "subject", s) for i, s in enumerate(subjects)])


@settings(max_examples=200, deadline=None)
@given(rows_strategy, picks_strategy, st.randoms(use_true_random=False))
def test_acceptance_does_not_depend_on_the_order(rows, picks, rnd):
    lf = limits_from(rows)
    note(f"{rows=} {picks=}")
    shuffled = list(picks)
    rnd.shuffle(shuffled)
    for order in (picks, shuffled):
        accepted = accept_in_order(order, lf)
        # Whatever the order, the accepted set is valid under every row ...
        assert rules.quota_violations(accepted, lf) == []
        # ... and maximal: every refused pick would break a row.
        for p in order:
            if p not in accepted:
                assert rules.quota_violations(accepted + [p], lf) != []
    # A given final set: a valid one is accepted whole in any order, an invalid one never.
    valid = rules.quota_violations(picks, lf) == []
    assert (accept_in_order(picks, lf) == picks) == valid
    assert (len(accept_in_order(shuffled, lf)) == len(picks)) == valid


def test_the_board_shows_the_category_line_and_the_subject_sub_limits():
    lf = limits_from([QuotaRow(1, "county", None, "", "subject", "", False, 25),
                      QuotaRow(2, "county", None, "", "subject", "数学", False, 3)])
    recommended = [Pick(1, "subject", "数学"), Pick(2, "subject", "语文"), Pick(3, "subject", "数学")]
    board = rules.quota_uses(["subject", "special"], lf, recommended, [("subject", "物理")])
    assert board == [QuotaUse("subject", "", 3, 25), QuotaUse("subject", "数学", 2, 3),
                     QuotaUse("special", "", 0, None)]
    assert [line.text() for line in board[:2]] == ["学科课程 已推荐 3/25", "学科课程（数学） 已推荐 2/3"]


# --- through the service ---------------------------------------------------------------------------------
@pytest.mark.django_db
def test_recommending_checks_the_subject_row_and_the_unit_s_category_row(make_course, tree, campaign, nodes):
    """Default 数学 ≤ 1 inside the county's own override 学科课程 ≤ 2 (it replaces the default 25)."""
    Quota.objects.create(campaign=campaign, level=Level.objects.get(campaign=campaign, kind="county"),
                         category="subject", subject="数学", limit=1)
    campaign_services.set_quota_override(tree.city_admin, campaign, level_kind="county", unit=tree.county,
                                         category="subject", limit=2)
    chinese = [up_to_county(make_course(node=nodes[i]), tree) for i in (0, 1)]
    maths = [up_to_county(make_course(node=nodes[i]), tree) for i in (3, 4)]
    services.decide(tree.county_admin, chinese[0].pk, "recommend")
    services.decide(tree.county_admin, maths[0].pk, "recommend")
    with pytest.raises(ServiceError, match=r"学科课程（数学） 已推荐 1/1"):
        services.decide(tree.county_admin, maths[1].pk, "recommend")
    with pytest.raises(ServiceError, match=r"学科课程 已推荐 2/2"):
        services.decide(tree.county_admin, chinese[1].pk, "recommend")
    services.decide(tree.county_admin, maths[0].pk, "undo")
    services.decide(tree.county_admin, chinese[1].pk, "recommend")
    # The category is full: a 数学 pick is refused too (it used to be checked against 数学 1 only).
    with pytest.raises(ServiceError, match=r"学科课程 已推荐 2/2"):
        services.decide(tree.county_admin, maths[0].pk, "recommend")
    assert entry_at(maths[0].course, "county").state == "pending"
    board = services.standing(tree.county_admin, campaign, tree.county, Level.objects.get(campaign=campaign,
                                                                                           kind="county"))
    assert [q.text() for q in board.quotas if q.category == "subject"] == [
        "学科课程 已推荐 2/2", "学科课程（数学） 已推荐 0/1"]
