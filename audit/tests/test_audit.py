import pytest
from django.core.exceptions import PermissionDenied

from audit.models import Event
from audit.services import record


def test_record_and_append_only(tree):
    event = record(tree.county_admin, "orgs.unit.update", tree.school, before={"name": "旧名"},
                   after={"name": "新名"}, reason="更名")
    assert (event.actor_name, event.target_type, event.target_id, event.unit_path) == (
        tree.county_admin.display_name, "orgs.unit", str(tree.school.pk), tree.school.path)
    assert Event.objects.for_object(tree.school).count() == 1
    event.reason = "改动"
    with pytest.raises(PermissionDenied):
        event.save()
    with pytest.raises(PermissionDenied):
        event.delete()
    with pytest.raises(PermissionDenied):
        Event.objects.all().update(reason="x")
    with pytest.raises(PermissionDenied):
        Event.objects.all().delete()
    assert Event.objects.get().reason == "更名"


def test_admin_site_cannot_change_events(client, tree):
    record(tree.sysadmin, "x.y", tree.school)
    client.force_login(tree.sysadmin)
    event = Event.objects.get()
    assert client.get(f"/django-admin/audit/event/{event.pk}/change/").status_code == 200  # view only
    response = client.post(f"/django-admin/audit/event/{event.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert Event.objects.count() == 1


def test_a_batch_writes_its_events_in_one_insert_in_order_and_none_when_it_fails(tree, django_assert_num_queries):
    from audit.services import batch

    with django_assert_num_queries(1), batch():
        first = record(tree.teacher, "selection.enter", tree.school, after={"state": "pending"})
        second = record(tree.teacher, "courses.course.submit", tree.school, before={"status": "draft"})
        assert first.pk is None and second.pk is None  # not written yet
    events = list(Event.objects.filter(unit_path=tree.school.path).order_by("id"))
    assert [(e.action, e.after, e.before) for e in events] == [
        ("selection.enter", {"state": "pending"}, None), ("courses.course.submit", None, {"status": "draft"})]
    assert events[0].at <= events[1].at and list(Event.objects.order_by("-at", "-id"))[:2] == events[::-1]
    with pytest.raises(RuntimeError), batch():
        record(tree.teacher, "courses.course.withdraw", tree.school)
        raise RuntimeError("the use case failed")
    assert not Event.objects.filter(action="courses.course.withdraw").exists()
    assert record(tree.teacher, "courses.course.withdraw", tree.school).pk is not None  # outside: at once
