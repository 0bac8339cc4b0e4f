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
