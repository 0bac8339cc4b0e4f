import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("selection", "0002_entry_campaign"),
    ]

    operations = [
        migrations.AlterField(
            model_name="entry",
            name="campaign",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="campaigns.campaign", verbose_name="遴选活动"),
        ),
        migrations.AddIndex(
            model_name="entry",
            index=models.Index(fields=["campaign", "rank", "id"], name="selection_entry_cmp_rank"),
        ),
        migrations.AddIndex(
            model_name="entry",
            index=models.Index(fields=["unit", "campaign", "rank", "id"], name="selection_entry_unit_rank"),
        ),
        migrations.AddIndex(
            model_name="entry",
            index=models.Index(fields=["campaign", "state"], name="selection_entry_cmp_state"),
        ),
    ]
