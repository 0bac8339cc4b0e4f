"""The board's index of the entries carries their course (PostgreSQL: INCLUDE; SQLite has no
included columns and keeps the index as it was): a scope's search intersects the scope's entries
with the matching courses from the index alone (selection/models.py)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("selection", "0006_tallies"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="entry",
            name="progress_entry_board",
        ),
        migrations.AddIndex(
            model_name="entry",
            index=models.Index(fields=["campaign", "unit", "state", "awarded", "node"], include=("course",),
                               name="progress_entry_board"),
        ),
    ]
