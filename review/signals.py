"""A new category of a campaign (from a template or by hand) gets its rubric from the shipped
defaults of the campaign's year, for the owner to edit."""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from campaigns.models import CampaignCategory


@receiver(post_save, sender=CampaignCategory, dispatch_uid="review.install_default_rubric")
def install_default_rubric(sender, instance: CampaignCategory, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        from review.services import install_default_rubric as install

        install(instance.campaign, instance.category)
