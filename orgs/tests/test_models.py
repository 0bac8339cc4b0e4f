import pytest

from orgs.models import Unit, UnitKind


def test_paths_and_subtree(tree):
    assert tree.school.path == f"/{tree.province.pk}/{tree.city.pk}/{tree.county.pk}/{tree.school.pk}/"
    assert tree.school.depth == 3
    names = sorted(Unit.objects.subtree(tree.county).values_list("name", flat=True))
    assert names == ["湛江市第二十一小学", "赤坎区"]


def test_owner_kind(tree):
    assert tree.school.owner_kind == UnitKind.COUNTY
    assert tree.city_school.owner_label == "市直属学校"
    assert tree.province_school.owner_label == "省属学校"


def test_move_rewrites_subtree_paths(tree):
    tree.county.parent = tree.other_city
    tree.county.save()
    tree.school.refresh_from_db()
    assert tree.school.path == f"/{tree.province.pk}/{tree.other_city.pk}/{tree.county.pk}/{tree.school.pk}/"
    assert tree.school.depth == 3


def test_visible_units_are_the_admins_subtree(tree):
    visible = set(Unit.objects.visible_to(tree.county_admin).values_list("name", flat=True))
    assert visible == {"赤坎区", "湛江市第二十一小学"}
    assert Unit.objects.visible_to(tree.teacher).count() == 0
    assert Unit.objects.visible_to(tree.sysadmin).count() == Unit.objects.count()


@pytest.mark.parametrize(
    "who,role",
    [("teacher", "teacher"), ("school_admin", "school_admin"), ("county_admin", "county_admin"),
     ("city_admin", "city_admin"), ("province_admin", "province_admin"), ("expert", "expert"),
     ("sysadmin", "sysadmin")],
)
def test_primary_role(tree, who, role):
    assert getattr(tree, who).primary_role()[0] == role


def test_memberships_are_the_orms_in_one_written_out_statement(tree, django_assert_num_queries):
    """``User.memberships_cached`` (``orgs.models.active_memberships``) reads in one statement what
    ``memberships.select_related("unit", "unit__parent").filter(unit__is_active=True)`` reads: the same
    memberships (units switched off left out), every column equal and converted (dates, booleans),
    with unit, the unit's parent and the user attached, so that nothing else is read."""
    from orgs.models import Membership, Role, User

    user = tree.county_admin
    Membership.objects.create(user=user, unit=tree.province, role=Role.EXPERT)  # a unit without parent
    Membership.objects.create(user=user, unit=tree.other_school, role=Role.TEACHER)
    Membership.objects.create(user=user, unit=tree.other_county, role=Role.ADMIN)
    Unit.objects.filter(pk=tree.other_county.pk).update(is_active=False)
    Unit.objects.filter(pk=tree.city.pk).update(is_active=False)  # the parent of an active unit
    expected = list(Membership.objects.filter(user=user, unit__is_active=True)
                    .select_related("unit", "unit__parent").order_by("id"))
    assert len(expected) == 3
    user = User.objects.get(pk=user.pk)
    with django_assert_num_queries(1):
        found = user.memberships_cached()
        assert user.memberships_cached() is found
        for m, e in zip(found, expected, strict=True):
            for model, got, want in ((Membership, m, e), (Unit, m.unit, e.unit)):
                for field in model._meta.concrete_fields:
                    assert getattr(got, field.attname) == getattr(want, field.attname), field.name
            assert m.user is user
            if e.unit.parent is None:
                assert m.unit.parent is None
            else:
                for field in Unit._meta.concrete_fields:
                    assert getattr(m.unit.parent, field.attname) == getattr(e.unit.parent, field.attname)
            assert not m._state.adding and m.unit.pk == m.unit_id
        assert user.primary_role() == ("county_admin", tree.county)
    assert not User.objects.get(pk=tree.sysadmin.pk).memberships_cached()


def test_has_perm_answers_as_djangos_with_the_backends_loaded_once(tree, settings):
    """``User.has_perm`` asks the backends loaded once (not imported at every call), and answers
    as Django's own ``PermissionsMixin.has_perm``; a changed setting is followed."""
    from types import SimpleNamespace

    from django.contrib.auth.models import PermissionsMixin

    from orgs import models

    cases = [(user, perm, obj)
             for user in (tree.county_admin, tree.city_admin, tree.teacher, tree.sysadmin, tree.other_county_admin)
             for perm, obj in (("selection.decide_entry", SimpleNamespace(unit=tree.school)),
                               ("orgs.change_unit", tree.county), ("orgs.manage", None),
                               ("orgs.view_unit", tree.other_school), ("auth.add_user", None))]
    for user, perm, obj in cases:
        assert user.has_perm(perm, obj) == PermissionsMixin.has_perm(user, perm, obj), (user, perm)
    assert tree.county_admin.has_perm("selection.decide_entry", SimpleNamespace(unit=tree.school))
    assert not tree.teacher.has_perm("orgs.manage")
    backends = models._auth_backends()
    assert models._auth_backends() is backends and len(backends) == len(settings.AUTHENTICATION_BACKENDS)
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
    assert not tree.county_admin.has_perm("selection.decide_entry", SimpleNamespace(unit=tree.school))
    tree.sysadmin.is_active = False
    assert not tree.sysadmin.has_perm("orgs.manage")
