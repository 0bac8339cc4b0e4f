"""The demo holds a city review round in progress, so that ``expert_wang`` has work (blind)."""

import io

from django.core.management import call_command

from orgs.models import User
from review import services
from review.models import ReviewRound


def test_the_demo_expert_has_tasks(db):
    call_command("load_demo", stdout=io.StringIO())
    r = ReviewRound.objects.get()
    assert (r.unit.name, r.level.kind, r.status, r.phase) == ("湛江市", "city", "published", "video")
    tasks = services.my_tasks(User.objects.get(username="expert_wang"))
    assert len(tasks) == r.round_entries.count() >= 1
    assert {t.window for t in tasks} == {"open"}
    text = " ".join(str(v) for t in tasks for v in vars(t).values())
    for entry in r.round_entries.select_related("entry__course__school__parent", "entry__course__lead_teacher"):
        course = entry.entry.course
        for secret in (course.lead_teacher.real_name, course.school.name, course.school.parent.name):
            assert secret not in text
