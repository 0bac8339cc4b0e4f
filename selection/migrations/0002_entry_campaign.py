import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill(apps, schema_editor):
    """Every entry's campaign is its level's."""
    Entry = apps.get_model("selection", "Entry")
    Level = apps.get_model("campaigns", "Level")
    Entry.objects.filter(campaign__isnull=True).update(
        campaign_id=Subquery(Level.objects.filter(pk=OuterRef("level_id")).values("campaign_id")[:1]))


class Migration(migrations.Migration):
    """Entry.campaign (copied from the level, issue 12), added nullable and filled here; 0003 makes
    it required and adds the lists' indexes (in its own transaction: PostgreSQL refuses to alter a
    table with pending deferred foreign-key checks from this one's UPDATE)."""

    dependencies = [
        ("campaigns", "0002_initial"),
        ("selection", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="entry",
            name="campaign",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="campaigns.campaign", verbose_name="遴选活动"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
