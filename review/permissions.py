"""Who may do what in expert review (predicates of the ``rules`` library).

Scope is enforced twice: querysets start from ``ReviewRound.objects.visible_to(user)`` (rounds of
units he administers) and ``Assignment.objects.of_expert(user)`` (an expert's own assignments);
object checks go through these predicates.

- a campaign's rubrics belong to the admins of its owner (and those above);
- a round is created by an admin of the county, city or province that holds the entries at that
  level (schools have no rounds), and managed by
  the admins of its unit (and those above);
- a unit's expert pool is kept by the unit's admins;
- an expert sees and scores only his own assignments.
"""

from __future__ import annotations

from dataclasses import dataclass

import rules

from campaigns.permissions import concerns_user, is_unit_admin


@dataclass(frozen=True)
class RoundTarget:
    """The object of creating a round: a unit at one level of a campaign."""

    campaign: object
    level: object
    unit: object


def _logged_in(user) -> bool:
    return bool(user and user.is_authenticated)


@rules.predicate
def owns_campaign(user, campaign) -> bool:
    return _logged_in(user) and campaign is not None and user.administers(campaign.owner)


@rules.predicate
def holds_level(user, target: RoundTarget) -> bool:
    """The unit acts at the level (a county at the county level) within the campaign, and the user
    administers it. Schools screen their teachers' entries without expert rounds."""
    if not _logged_in(user) or target is None:
        return False
    unit, level, campaign = target.unit, target.level, target.campaign
    if unit.kind == "school":
        return False
    return (unit.kind == level.kind and level.campaign_id == campaign.pk and unit.is_within(campaign.owner) or
            unit.pk == campaign.owner_id and unit.kind == level.kind) and user.administers(unit)


@rules.predicate
def manages_round(user, review_round) -> bool:
    return _logged_in(user) and review_round is not None and user.administers(review_round.unit)


@rules.predicate
def keeps_pool(user, unit) -> bool:
    return _logged_in(user) and unit is not None and user.administers(unit)


@rules.predicate
def own_assignment(user, assignment) -> bool:
    return _logged_in(user) and assignment is not None and assignment.expert_id == user.pk


rules.add_perm("review.view_rubric", concerns_user & is_unit_admin)
rules.add_perm("review.change_rubric", owns_campaign)
rules.add_perm("review.create_round", holds_level)
rules.add_perm("review.view_round", manages_round)
rules.add_perm("review.change_round", manages_round)
rules.add_perm("review.assign", manages_round)
rules.add_perm("review.manage_experts", keeps_pool)
rules.add_perm("review.view_assignment", own_assignment)
rules.add_perm("review.declare_conflict", own_assignment)


# --- scoring: the expert's sheet and the chair's reopening ---------------------------------------
@rules.predicate
def chairs_round(user, assignment) -> bool:
    """The user chairs the panel of the assignment's round."""
    if not _logged_in(user) or assignment is None:
        return False
    from review.models import PanelMember  # local: this part's section stays self-contained for the merge

    return PanelMember.objects.filter(round_id=assignment.round_id, expert=user, is_chair=True).exists()


rules.add_perm("review.score", own_assignment)
rules.add_perm("review.reopen_sheet", chairs_round)


# --- round results (aggregation, ranking, exports, proposal) -------------------------------------------
@rules.predicate
def chairs_round(user, review_round) -> bool:
    """The panel chair of the round (results are read-only for him)."""
    return _logged_in(user) and review_round is not None and \
        review_round.panel.filter(expert_id=user.pk, is_chair=True).exists()


rules.add_perm("review.view_results", manages_round | chairs_round)
rules.add_perm("review.change_results", manages_round)


# --- lecture scores entered by the chair; adjudication; adding a reviewer -------------------------
@rules.predicate
def chairs_review_round(user, review_round) -> bool:
    """The panel chair of this round (object: the round)."""
    return _logged_in(user) and review_round is not None and \
        review_round.panel.filter(expert_id=user.pk, is_chair=True).exists()


rules.add_perm("review.enter_lecture", chairs_review_round)
rules.add_perm("review.adjudicate", chairs_review_round)
rules.add_perm("review.add_reviewer", chairs_review_round | manages_round)
rules.add_perm("review.set_lecture_slot", chairs_review_round | manages_round)


# --- publicity (公示) and objections ---------------------------------------------------------------------
@rules.predicate
def publishes_level(user, target: RoundTarget) -> bool:
    """An admin of the county, city or province acting at the target level publishes its results."""
    return holds_level(user, target)


@rules.predicate
def manages_publicity(user, publicity) -> bool:
    return _logged_in(user) and publicity is not None and user.administers(publicity.unit)


rules.add_perm("review.publicize", publishes_level)
rules.add_perm("review.manage_publicity", manages_publicity)
