from django.db import migrations, models
from django.db.models import Case, CharField, Exists, OuterRef, Value, When


def fill(apps, schema_editor):
    """Compute Course.compliance for existing courses (same rule as courses.compliance)."""
    Course = apps.get_model("courses", "Course")
    Resource = apps.get_model("courses", "Resource")
    files = Resource.objects.filter(period__course_id=OuterRef("pk"))
    expr = Case(*(When(Exists(files.filter(status=s)), then=Value(s)) for s in ("fail", "pending", "warn")),
                When(Exists(files), then=Value("pass")), default=Value("none"), output_field=CharField())
    Course.objects.update(compliance=expr)


class Migration(migrations.Migration):

    dependencies = [
        ("courses", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="course",
            name="compliance",
            field=models.CharField(choices=[("fail", "有不合格文件"), ("pending", "检测中"), ("warn", "有提醒"),
                                            ("pass", "全部通过"), ("none", "未上传文件")],
                                   default="none", max_length=8, verbose_name="文件检测"),
        ),
        migrations.AddIndex(
            model_name="course",
            index=models.Index(fields=["campaign", "compliance"], name="courses_cou_campaig_32e378_idx"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="course",
            index=models.Index(fields=["-updated_at", "-id"], name="courses_course_updated"),
        ),
        migrations.AddIndex(
            model_name="course",
            index=models.Index(fields=["campaign", "-updated_at", "-id"], name="courses_course_cmp_updated"),
        ),
    ]
