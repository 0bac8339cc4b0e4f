"""Excel imports of units and users: templates, all-or-nothing, row errors, passwords file."""

import base64
import io

from django.urls import reverse
from openpyxl import load_workbook

from audit.models import Event
from orgs.models import Membership, Unit, User
from orgs.tests.conftest import make_xlsx


def snapshot():
    return (list(Unit.objects.order_by("pk").values_list("code", "name", "parent_id")),
            list(User.objects.order_by("pk").values_list("username", "mobile")),
            Membership.objects.count(), Event.objects.count())


def test_unit_template_has_headers_and_kind_dropdown(client, tree):
    client.force_login(tree.county_admin)
    response = client.get(reverse("orgs:unit_template"))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.content))
    ws = wb.worksheets[0]
    assert [c.value for c in ws[1]] == ["单位名称*", "单位代码*", "类型*", "上级单位代码", "排序"]
    validations = ws.data_validations.dataValidation
    assert [v.formula1 for v in validations] == ['"省,市,县（市、区）,学校"']


def test_user_template_has_headers_and_role_dropdown(client, tree):
    client.force_login(tree.school_admin)
    response = client.get(reverse("orgs:user_template"))
    ws = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert [c.value for c in ws[1]] == ["姓名*", "用户名", "手机号*", "单位代码*", "角色*", "职务", "任教学科", "初始密码"]
    assert [v.formula1 for v in ws.data_validations.dataValidation] == ['"教师,评审专家,学校管理员,区县管理员,市级管理员,省级管理员"']


def test_templates_need_an_admin(client, tree):
    client.force_login(tree.teacher)
    assert client.get(reverse("orgs:unit_template")).status_code == 403
    assert client.get(reverse("orgs:user_template")).status_code == 403


def test_import_units_parent_later_in_sheet(client, tree, unit_sheet):
    client.force_login(tree.city_admin)
    sheet = unit_sheet(
        ["麻章区第一小学", "440811001", "学校", "440811", 2],
        ["麻章区", "440811", "县（市、区）", "440800", None],
        ["湛江市第二中学", "440800002", "学校", "440800", None],
    )
    response = client.post(reverse("orgs:unit_import"), {"file": sheet})
    assert response.status_code == 302
    county = Unit.objects.get(code="440811")
    school = Unit.objects.get(code="440811001")
    assert (county.parent, county.kind) == (tree.city, "county")
    assert (school.parent, school.kind, school.sort_order) == (county, "school", 2)
    assert Unit.objects.get(code="440800002").owner_label == "市直属学校"
    assert Event.objects.filter(action="orgs.unit.create").count() == 3
    summary = Event.objects.get(action="orgs.unit.import")
    assert summary.after == {"count": 3, "codes": ["440811", "440811001", "440800002"]}
    assert summary.actor == tree.city_admin


def test_bad_unit_sheet_imports_nothing_and_lists_every_row(client, tree, unit_sheet):
    client.force_login(tree.county_admin)
    before = snapshot()
    sheet = unit_sheet(
        ["好学校", "440802008", "学校", "440802", None],
        ["越界学校", "440803009", "学校", "440803", None],
        ["", "440802010", "学校", "440802", None],
        ["错类型", "440802011", "县（市、区）", "440802", None],
        ["不存在", "440802012", "学校", "123", None],
    )
    response = client.post(reverse("orgs:unit_import"), {"file": sheet})
    assert response.status_code == 400
    error = response.context["import_error"]
    assert error.message == "单位未导入：共有 4 行有问题，请按下面的说明修改后重新上传整张表。已有的数据没有任何改动。"
    assert error.errors == [
        {"row": 3, "column": "上级单位代码", "message": "上级单位 440803 不在您管理的范围内，只能在您管理的单位下面导入。"},
        {"row": 4, "column": "单位名称", "message": "请填写单位名称。"},
        {"row": 5, "column": "类型", "message": "类型不匹配：县（市、区）下面只能建学校，不能建县（市、区）。"},
        {"row": 6, "column": "上级单位代码", "message": "找不到上级单位代码 123：系统和本表中都没有这个单位。"},
    ]
    body = response.content.decode()
    assert "上级单位 440803 不在您管理的范围内" in body
    assert snapshot() == before


def test_unit_import_refuses_existing_code_and_name(client, tree, unit_sheet):
    client.force_login(tree.county_admin)
    before = snapshot()
    response = client.post(reverse("orgs:unit_import"), {"file": unit_sheet(
        ["湛江市第二十一小学", "440802099", "学校", "440802", None],
        ["重复代码", "440803001", "学校", "440802", None],
    )})
    assert response.context["import_error"].errors == [
        {"row": 2, "column": "单位名称", "message": "上级单位下已有名为“湛江市第二十一小学”的单位，同一上级下的单位名称不能重复。"},
        {"row": 3, "column": "单位代码", "message": "单位代码 440803001 已存在，不能重复创建；如需修改请在单位页面编辑。"},
    ]
    assert snapshot() == before


def test_unit_import_wrong_file_and_missing_columns(client, tree, unit_sheet):
    client.force_login(tree.county_admin)
    bad = io.BytesIO(b"not a workbook")
    bad.name = "x.xls"
    response = client.post(reverse("orgs:unit_import"), {"file": bad})
    assert response.context["import_error"].message.startswith("文件不是 Excel 2007 及以上的 .xlsx 表格。")
    response = client.post(reverse("orgs:unit_import"), {"file": unit_sheet(["a", "b"], headers=["单位名称", "单位代码"])})
    assert response.context["import_error"].message == "表格缺少这些列：类型。请下载最新模板，不要修改第一行的列标题。"
    response = client.post(reverse("orgs:unit_import"), {})
    assert response.context["form"].errors["file"] == ["请选择要上传的 Excel 文件。"]


def test_teacher_cannot_import(client, tree, unit_sheet):
    client.force_login(tree.teacher)
    response = client.post(reverse("orgs:unit_import"), {"file": unit_sheet(["x", "X", "学校", "440802", None])})
    assert response.status_code == 403
    assert not Unit.objects.filter(code="X").exists()


def test_import_users_and_download_passwords(client, tree, user_sheet):
    client.force_login(tree.county_admin)
    sheet = user_sheet(
        ["周建华", None, 13800000003, "440802001", "教师", "教研组长", "数学", None],
        ["赵敏", "zhaomin", "13800000004", "440802", "管理员", "电教站", None, "Blue-river-77"],
    )
    response = client.post(reverse("orgs:user_import"), {"file": sheet})
    assert response.status_code == 200
    zhou = User.objects.get(username="13800000003")
    zhao = User.objects.get(username="zhaomin")
    assert (zhou.real_name, zhou.mobile, zhou.must_change_password) == ("周建华", "13800000003", True)
    assert zhao.check_password("Blue-river-77") and zhao.must_change_password
    assert [(m.unit.code, m.role, m.title, m.subject) for m in Membership.objects.filter(user__in=[zhou, zhao])
            .order_by("user__username")] == [("440802001", "teacher", "教研组长", "数学"), ("440802", "admin", "电教站", "")]
    href = response.context["passwords_href"]
    assert href.startswith("data:application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;base64,")
    ws = load_workbook(io.BytesIO(base64.b64decode(href.split(",", 1)[1]))).worksheets[0]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=1, max_row=3)]
    assert rows[0] == ["姓名", "用户名", "手机号", "单位", "角色", "初始密码"]
    assert rows[1][:5] == ["周建华", "13800000003", "13800000003", "湛江市第二十一小学", "教师"]
    assert zhou.check_password(rows[1][5])
    assert rows[2] == ["赵敏", "zhaomin", "13800000004", "赤坎区", "区县管理员", "（使用表中填写的初始密码）"]
    # The plain-text password is nowhere in the database (sessions, audit log).
    from django.contrib.sessions.models import Session

    assert all(rows[1][5] not in str(s.get_decoded()) for s in Session.objects.all())
    assert rows[1][5] not in str(list(Event.objects.values()))
    assert Event.objects.get(action="orgs.user.import").after == {"count": 2, "usernames": ["13800000003", "zhaomin"]}
    assert Event.objects.filter(action="orgs.user.create").count() == 2


def test_bad_user_sheet_imports_nothing(client, tree, user_sheet):
    client.force_login(tree.county_admin)
    before = snapshot()
    sheet = user_sheet(
        ["好人", None, "13900000001", "440802001", "教师", None, None, None],
        ["越界", None, "13900000002", "440803001", "教师", None, None, None],
        ["重号", None, "13900000001", "440802001", "教师", None, None, None],
        ["已存在", None, "13800000001", "440802001", "教师", None, None, None],
        ["坏号", None, "12345", "440802001", "教师", None, None, None],
        ["无单位", None, "13900000006", "000", "教师", None, None, None],
        ["错角色", None, "13900000007", "440802001", "校长", None, None, None],
        ["弱密码", None, "13900000008", "440802001", "教师", None, None, "password"],
        ["重名", "teacher", "13900000009", "440802001", "教师", None, None, None],
    )
    response = client.post(reverse("orgs:user_import"), {"file": sheet})
    assert response.status_code == 400
    error = response.context["import_error"]
    assert error.message == "用户未导入：共有 8 行有问题，请按下面的说明修改后重新上传整张表。已有的数据没有任何改动。"
    assert error.errors == [
        {"row": 3, "column": "单位代码", "message": "单位 440803001 不在您管理的范围内。"},
        {"row": 4, "column": "手机号", "message": "手机号 13900000001 与第 2 行重复。"},
        {"row": 5, "column": "手机号", "message": "手机号 13800000001 已被系统中的其他账户使用。"},
        {"row": 6, "column": "手机号", "message": "手机号“12345”格式不对，请填写 11 位手机号码，例如 13800138000。"},
        {"row": 7, "column": "单位代码", "message": "找不到单位代码 000，请先在“单位”中创建或导入该单位。"},
        {"row": 8, "column": "角色", "message": "角色“校长”无法识别，请填写：教师、评审专家、学校管理员、区县管理员、市级管理员、省级管理员。"},
        {"row": 9, "column": "初始密码", "message": "初始密码不符合要求：这个密码太常见了。 也可以留空，由系统生成。"},
        {"row": 10, "column": "用户名", "message": "用户名 teacher 已被系统中的其他账户使用，请换一个用户名。"},
    ]
    assert snapshot() == before


def test_user_import_missing_required_values(client, tree, user_sheet):
    client.force_login(tree.school_admin)
    response = client.post(reverse("orgs:user_import"), {"file": user_sheet([None, "x", None, None, None, None, None, None])})
    assert response.context["import_error"].errors == [
        {"row": 2, "column": "姓名", "message": "请填写姓名。"},
        {"row": 2, "column": "手机号", "message": "请填写手机号。"},
        {"row": 2, "column": "单位代码", "message": "请填写单位代码。"},
        {"row": 2, "column": "角色", "message": "请填写角色：教师、评审专家、学校管理员、区县管理员、市级管理员、省级管理员。"},
    ]


def test_school_admin_cannot_import_into_county(client, tree, user_sheet):
    client.force_login(tree.school_admin)
    response = client.post(reverse("orgs:user_import"), {"file": user_sheet(
        ["县里人", None, "13900000001", "440802", "管理员", None, None, None])})
    assert response.context["import_error"].errors == [
        {"row": 2, "column": "单位代码", "message": "单位 440802 不在您管理的范围内。"}]
    assert not User.objects.filter(mobile="13900000001").exists()


def test_imported_user_must_change_password_at_login(client, tree, user_sheet):
    client.force_login(tree.school_admin)
    client.post(reverse("orgs:user_import"), {"file": user_sheet(
        ["新教师", None, "13900000001", "440802001", "教师", None, None, "New-teacher-1"])})
    client.logout()
    response = client.post(reverse("login"), {"username": "13900000001", "password": "New-teacher-1"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("password_change")


def test_make_xlsx_helper_roundtrip():
    from jingpinke.excel import read_sheet

    rows = read_sheet(make_xlsx(["a", "b"], [[1, "x"]]), ["a"], ["b"])
    assert [(r.number, r.values) for r in rows] == [(2, {"a": "1", "b": "x"})]


def test_example_row_left_in_the_template_is_reported_not_imported(client, tree):
    """An admin who types his people under the template's example row must not import 李晓梅."""
    client.force_login(tree.county_admin)
    template = client.get(reverse("orgs:user_template"))
    wb = load_workbook(io.BytesIO(template.content))
    wb.worksheets[0].append(["王小明", "", "13900000011", "440802001", "教师", "", "数学", ""])
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = "users.xlsx"
    before = snapshot()
    response = client.post(reverse("orgs:user_import"), {"file": buf})
    assert response.status_code == 400
    assert response.context["import_error"].errors == [
        {"row": 2, "column": "姓名", "message": "这是模板中的示例行，请删除后再上传。"}]
    assert snapshot() == before


def test_example_row_of_the_unit_template_is_reported(client, tree):
    tree.school.code = "440802099"  # even where the example's code is free, it is not created
    tree.school.save()
    client.force_login(tree.county_admin)
    template = client.get(reverse("orgs:unit_template"))
    buf = io.BytesIO(template.content)
    buf.name = "units.xlsx"
    response = client.post(reverse("orgs:unit_import"), {"file": buf})
    assert response.status_code == 400
    assert response.context["import_error"].errors == [
        {"row": 2, "column": "单位名称", "message": "这是模板中的示例行，请删除后再上传。"}]
    assert not Unit.objects.filter(code="440802001").exists()
