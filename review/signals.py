"""A new category of a campaign (from a template or by hand) gets its rubric from the shipped
defaults of the campaign's year, for the owner to edit."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from campaigns.models import CampaignCategory
from review.models import ReviewRound, RoundStatus


@receiver(post_save, sender=CampaignCategory, dispatch_uid="review.install_default_rubric")
def install_default_rubric(sender, instance: CampaignCategory, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        from review.services import install_default_rubric as install

        install(instance.campaign, instance.category)


# --- scoring: blind copies are made when a round is published -----------------------------------
@receiver(post_save, sender=ReviewRound, dispatch_uid="review.enqueue_clean_copies")
def enqueue_clean_copies(sender, instance: ReviewRound, created: bool, raw: bool = False, update_fields=None,
                         **kwargs) -> None:
    """Publishing a round sends every file of its entries without a blind copy to the queue, after
    the commit (the scoring page also sends a missing one on first open)."""
    if raw or instance.status != RoundStatus.PUBLISHED or (update_fields is not None and "status" not in update_fields):
        return
    from review.services import enqueue_round_clean_copies  # services import this module's app: at call time

    transaction.on_commit(lambda: enqueue_round_clean_copies(instance), robust=True)
