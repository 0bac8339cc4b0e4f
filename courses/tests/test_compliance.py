"""``Course.compliance`` (the worst check status among a course's files, kept on the course for
the lists) follows every change of the course's files: added, replaced, restored, removed,
probed bad or good, re-judged after a spec change, emptied by a category change, and the
migration's fill computes the same value."""

from __future__ import annotations

import pytest

from courses import compliance, services
from courses.models import Course, Resource
from courses.tests.conftest import GOOD_VIDEO, make_file
from media.signals import file_probed

pytestmark = pytest.mark.django_db


def stored_value(course) -> str:
    return Course.objects.values_list("compliance", flat=True).get(pk=course.pk)


def test_follows_attach_replace_restore_remove(tree, course):
    assert stored_value(course) == "none"
    good = make_file(tree.teacher, "pdf")
    services.attach_file(tree.teacher, course, 1, "task_sheet", good.pk)
    assert stored_value(course) == "pass"
    services.attach_file(tree.teacher, course, 1, "task_sheet", make_file(tree.teacher, "pdf", probe={"encrypted": True}).pk)
    assert stored_value(course) == "fail"  # replaced by a failing file
    services.restore_previous(tree.teacher, course, 1, "task_sheet")
    assert stored_value(course) == "pass"
    services.attach_file(tree.teacher, course, 1, "lesson_plan", make_file(tree.teacher, "docx").pk)
    services.remove_file(tree.teacher, course, 1, "task_sheet")
    assert stored_value(course) == "pass"
    services.remove_file(tree.teacher, course, 1, "lesson_plan")
    assert stored_value(course) == "none"


def test_follows_the_probe_bad_then_good(tree, course):
    services.attach_file(tree.teacher, course, 1, "task_sheet", make_file(tree.teacher, "pdf").pk)
    video = make_file(tree.teacher, "mp4", probe_status="pending", probe={})
    services.attach_file(tree.teacher, course, 1, "video", video.pk)
    assert stored_value(course) == "pending"  # worse than the passing sheet
    video.probe_status, video.probe = "done", {**GOOD_VIDEO, "fps": 30.0}
    video.save()
    file_probed.send(sender=type(video), stored_file=video)
    assert stored_value(course) == "fail"
    video.probe = GOOD_VIDEO
    video.save()
    file_probed.send(sender=type(video), stored_file=video)
    assert stored_value(course) == "pass"


def test_follows_a_rejudgement_done_with_update(tree, course):
    """A spec change re-judges stored results with QuerySet.update (no save signal)."""
    services.attach_file(tree.teacher, course, 1, "lesson_plan", make_file(tree.teacher, "docx").pk)
    from campaigns.models import ResourceSlot

    ResourceSlot.objects.filter(campaign_category__campaign=course.campaign, kind="lesson_plan").update(formats=["pdf"])
    services.package(course)
    assert Resource.objects.get().status == "fail"
    assert stored_value(course) == "fail"


def test_refresh_matches_the_resources_and_changes_only_stale_rows(tree, course):
    services.attach_file(tree.teacher, course, 1, "task_sheet", make_file(tree.teacher, "pdf").pk)
    Resource.objects.update(status="warn")  # behind the signal's back
    assert stored_value(course) == "pass"
    assert compliance.refresh([course.pk]) == 1
    assert stored_value(course) == "warn"
    assert compliance.refresh(Course.objects.all()) == 0  # nothing stale any more


def test_the_migration_fill_computes_the_same(tree, course):
    import importlib

    from django.apps import apps

    services.attach_file(tree.teacher, course, 1, "task_sheet", make_file(tree.teacher, "pdf").pk)
    Resource.objects.update(status="pending")
    Course.objects.update(compliance="none")
    importlib.import_module("courses.migrations.0002_compliance").fill(apps, None)
    assert stored_value(course) == "pending"


@pytest.mark.parametrize("statuses", [[], ["pass"], ["pass", "warn"], ["warn", "pending", "pass"],
                                      ["pass", "fail", "pending"], ["warn", "warn"]])
def test_of_statuses_is_what_the_sql_computes(tree, course, statuses):
    """Bulk creators (bench/province.py) set the value with ``of_statuses`` instead of ``refresh``."""
    kinds = ["task_sheet", "lesson_plan", "exercises"]
    for kind, status in zip(kinds, statuses, strict=False):
        services.attach_file(tree.teacher, course, 1, kind, make_file(tree.teacher, "pdf").pk)
        Resource.objects.filter(slot_kind=kind).update(status=status)
    compliance.refresh([course.pk])
    assert stored_value(course) == compliance.of_statuses(statuses)
