"""The board's index of the entries carries their id too (PostgreSQL: INCLUDE; SQLite has no
included columns and keeps the index as it was): a county's search reads its matches' ids from the
index alone, not from each entry's row (selection/models.py, ``jingpinke.paging`` narrow_first)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("selection", "0007_entry_board_course"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="entry",
            name="progress_entry_board",
        ),
        migrations.AddIndex(
            model_name="entry",
            index=models.Index(fields=["campaign", "unit", "state", "awarded", "node"], include=("course", "id"),
                               name="progress_entry_board"),
        ),
    ]
