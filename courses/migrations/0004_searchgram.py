"""The bigram index of the searched texts (courses/search.py): the table, its triggers on course
titles, user names and unit names (PostgreSQL and SQLite), and the grams of every existing row."""

from django.db import migrations, models


def forward(apps, schema_editor):
    from courses import search

    search.install(schema_editor.connection, fill=True)


def backward(apps, schema_editor):
    from courses import search

    search.uninstall(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("courses", "0003_search_trgm"),
        ("orgs", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchGram",
            fields=[
                ("pk", models.CompositePrimaryKey("kind", "gram", "obj_id", blank=True, editable=False,
                                                  primary_key=True, serialize=False)),
                ("kind", models.CharField(max_length=1)),
                ("gram", models.CharField(max_length=2)),
                ("obj_id", models.BigIntegerField()),
            ],
            options={"verbose_name": "检索二元组", "verbose_name_plural": "检索二元组"},
        ),
        migrations.RunPython(forward, backward),
    ]
