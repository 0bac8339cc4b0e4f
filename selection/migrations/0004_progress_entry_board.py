from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("selection", "0003_entry_campaign_required"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="entry",
            index=models.Index(fields=["campaign", "unit", "state", "awarded", "node"], name="progress_entry_board"),
        ),
    ]
