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
