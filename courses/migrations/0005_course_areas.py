"""The course's areas (courses/areas.py): the units at depth 1 and 2 of its school's path, their
triggers (PostgreSQL and SQLite), the areas of every existing course, then the two list indexes."""

from django.db import migrations, models


def forward(apps, schema_editor):
    from courses import areas

    areas.install(schema_editor.connection, fill=True)


def backward(apps, schema_editor):
    from courses import areas

    areas.uninstall(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("courses", "0004_searchgram"),
        ("orgs", "0001_initial"),
    ]

    operations = [
        migrations.AddField(model_name="course", name="area1", field=models.BigIntegerField(editable=False, null=True)),
        migrations.AddField(model_name="course", name="area2", field=models.BigIntegerField(editable=False, null=True)),
        migrations.RunPython(forward, backward),
        migrations.AddIndex(
            model_name="course",
            index=models.Index(fields=["area1", "-updated_at", "-id"], name="courses_course_area1_updated"),
        ),
        migrations.AddIndex(
            model_name="course",
            index=models.Index(fields=["area2", "-updated_at", "-id"], name="courses_course_area2_updated"),
        ),
    ]
