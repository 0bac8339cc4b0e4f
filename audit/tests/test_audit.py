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


def test_record_writes_what_the_orm_writes_in_one_statement(tree, django_assert_num_queries):
    """``record`` INSERTs its event written out: one statement, and the row the ORM's
    ``Event.objects.create`` writes for the same values (JSON, time, actor), read back equal."""
    from datetime import timedelta

    from django.utils import timezone

    before = {"name": "旧名", "at": timezone.now(), "n": [1, None]}
    with django_assert_num_queries(1):
        event = record(tree.county_admin, "orgs.unit.update", tree.school, before=before, after=None, reason="更名")
    assert event.pk is not None and not event._state.adding
    orm = Event.objects.create(actor=tree.county_admin, actor_name=event.actor_name, action=event.action,
                               target_type=event.target_type, target_id=event.target_id,
                               target_repr=event.target_repr, unit_path=event.unit_path, before=event.before,
                               after=None, reason="更名")
    written, expected = Event.objects.get(pk=event.pk), Event.objects.get(pk=orm.pk)
    for field in Event._meta.concrete_fields:
        if field.name not in ("id", "at"):
            assert getattr(written, field.attname) == getattr(expected, field.attname), field.name
    assert written.before["name"] == "旧名" and written.before["n"] == [1, None] and written.after is None
    assert written.at == event.at and abs(written.at - expected.at) < timedelta(seconds=5)
    assert record(None, "x.y").actor_id is None
    assert Event.objects.filter(action="x.y", actor__isnull=True, target_type="").count() == 1
