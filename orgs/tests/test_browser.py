"""The orgs pages as real people use them: a county admin on a 375 px phone.

Each page visited is checked for horizontal overflow and saved to var/screenshots/orgs-*.png.
"""

import io
import re

import pytest
from openpyxl import Workbook, load_workbook

from orgs.models import Membership, Role, Unit, User
from orgs.rules import USER_COLUMNS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "Secret-pass-2024"  # the factories' password
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def org_tree(transactional_db, tree):
    return tree


def check(page, shots, name):
    """Nothing wider than the phone; a full-page screenshot to look at."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{name}: page is {width}px wide"
    page.screenshot(path=str(shots / f"orgs-{name}.png"), full_page=True)


def login(page, username, password):
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")


def logout(page):
    page.click("[data-toggle=mainnav]")
    page.click("#mainnav >> text=退出")
    page.wait_for_url("**/accounts/login/**")


def nav(page, label):
    page.click("[data-toggle=mainnav]")
    page.click(f"#mainnav >> text={label}")


def sheet(rows, headers=USER_COLUMNS) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def upload(page, data: bytes, name: str):
    page.set_input_files("#id_file", files=[{"name": name, "mimeType": XLSX, "buffer": data}])
    page.click("main form button[type=submit]")
    page.wait_for_load_state()


def test_county_admin_units_users_import_and_first_login(org_tree, browser_page, screenshot_dir):
    page, shots, tree = browser_page, screenshot_dir, org_tree

    # --- log in through the form -----------------------------------------------------------
    page.goto("/accounts/login/")
    check(page, shots, "01-login")
    login(page, "ck_admin", "wrong-password")
    assert "用户名/手机号或密码不正确" in page.locator("main").inner_text()
    check(page, shots, "02-login-error")
    login(page, "ck_admin", PASSWORD)
    page.wait_for_url(re.compile(r"/$"))

    # --- units: list, his school, a new school under his county --------------------------------
    nav(page, "单位")
    page.wait_for_url("**/orgs/units/")
    main = page.locator("main").inner_text()
    assert "赤坎区" in main and "湛江市第二十一小学" in main
    assert "霞山区" not in main  # the neighbour county stays out of sight
    check(page, shots, "03-units")

    page.click("main >> text=湛江市第二十一小学")
    page.wait_for_url(f"**/orgs/units/{tree.school.pk}/")
    assert page.locator("h1").inner_text().startswith("湛江市第二十一小学")
    assert tree.teacher.display_name in page.locator("main").inner_text()
    check(page, shots, "04-school")
    # a school has no child units
    assert page.locator("main >> text=新建下级单位").count() == 0

    page.click("main >> text=赤坎区")  # the breadcrumb leads back to the county
    page.wait_for_url(f"**/orgs/units/{tree.county.pk}/")
    check(page, shots, "05-county")
    page.click("main >> text=新建下级单位")
    page.wait_for_url(f"**/orgs/units/{tree.county.pk}/children/new/")
    check(page, shots, "06-unit-new")
    page.click("main button[type=submit]")  # empty form: errors in Chinese
    assert "这个字段是必填项" in page.locator("main").inner_text()
    check(page, shots, "07-unit-new-errors")
    page.fill("#id_name", "赤坎区第九小学")
    page.fill("#id_code", "440802009")
    page.select_option("#id_kind", label="学校")
    page.click("main button[type=submit]")
    new = Unit.objects.get(code="440802009")
    page.wait_for_url(f"**/orgs/units/{new.pk}/")
    assert new.parent == tree.county and new.kind == "school"
    assert "已创建单位“赤坎区第九小学”。" in page.locator("main").inner_text()
    check(page, shots, "08-unit-created")

    # --- users page and the import template --------------------------------------------------
    nav(page, "用户")
    page.wait_for_url("**/orgs/users/")
    assert tree.teacher.display_name in page.locator("main").inner_text()
    assert tree.other_teacher.display_name not in page.locator("main").inner_text()
    check(page, shots, "09-users")
    page.click("main >> text=Excel 导入用户")
    page.wait_for_url("**/orgs/users/import/")
    check(page, shots, "10-import")
    page.click("main form button[type=submit]")  # nothing chosen
    assert "请选择要上传的 Excel 文件。" in page.locator("main").inner_text()
    with page.expect_download() as info:
        page.click("main >> text=下载导入模板")
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    wb = load_workbook(io.BytesIO(download.path().read_bytes()))
    headers = [c.value for c in wb.worksheets[0][1]]
    assert [h.rstrip("*") for h in headers] == USER_COLUMNS
    assert "姓名*" in headers and "手机号*" in headers
    assert "填写说明" in wb.sheetnames

    # --- a bad sheet: every bad row listed, nothing imported ------------------------------------
    users_before = User.objects.count()
    bad = sheet([
        ["张一", "", "1380013800", "440802001", "教师", "", "语文", ""],  # mobile too short
        ["张二", "", "13900000002", "999999", "教师", "", "", ""],  # unknown unit
        ["张三", "", "13900000003", "440803001", "教师", "", "", ""],  # school of the other county
        ["张四", "", "13900000004", "440802001", "校长", "", "", ""],  # unknown role
        ["张五", "", "13900000005", "440802001", "教师", "", "", "12345678"],  # weak password
        ["张六", "", "13800000001", "440802001", "教师", "", "", ""],  # mobile taken
    ])
    upload(page, bad, "坏表.xlsx")
    text = page.locator("main").inner_text()
    assert "用户未导入：共有 6 行有问题" in text
    for expected in [
        "手机号“1380013800”格式不对，请填写 11 位手机号码",
        "找不到单位代码 999999",
        "单位 440803001 不在您管理的范围内。",
        "角色“校长”无法识别",
        "初始密码不符合要求",
        "手机号 13800000001 已被系统中的其他账户使用。",
    ]:
        assert expected in text, expected
    assert page.locator("#import-errors").is_visible()
    rows = page.locator("#import-errors tbody tr td:first-child").all_inner_texts()
    assert rows == [f"第 {n} 行" for n in range(2, 8)]
    # the result comes before the form on the page: seen first after uploading
    assert page.locator("#import-errors").bounding_box()["y"] < page.locator("#id_file").bounding_box()["y"]
    assert User.objects.count() == users_before
    check(page, shots, "11-import-errors")

    # --- a good sheet ------------------------------------------------------------------------
    good = sheet([
        ["王小明", "", "13900000011", "440802001", "教师", "", "数学", "Hai-bin-2024!"],
        ["刘芳", "liufang", "13900000012", "440802009", "管理员", "校长", "", ""],
    ])
    upload(page, good, "好表.xlsx")
    page.wait_for_selector("text=用户导入完成")
    assert "已导入 2 个用户。" in page.locator("main").inner_text()
    check(page, shots, "12-import-done")
    wang = User.objects.get(mobile="13900000011")
    liu = User.objects.get(username="liufang")
    assert wang.must_change_password and liu.must_change_password
    assert Membership.objects.get(user=liu).unit.code == "440802009"
    assert Membership.objects.get(user=liu).role == Role.ADMIN
    with page.expect_download() as info:
        page.click("main >> text=下载初始密码表")
    passwords = load_workbook(io.BytesIO(info.value.path().read_bytes())).worksheets[0]
    by_username = {row[1]: row[5] for row in passwords.iter_rows(min_row=2, values_only=True) if row[1]}
    generated = by_username["liufang"]
    assert generated and liu.check_password(generated)

    # --- the imported admin's first login ------------------------------------------------------
    logout(page)
    login(page, "liufang", generated)
    page.wait_for_url("**/accounts/password/")
    assert "这是您第一次登录，请先设置自己的密码。" in page.locator("main").inner_text()
    assert page.locator("label[for=id_old_password]").inner_text().startswith("初始密码")
    check(page, shots, "13-forced-change")
    page.goto("/orgs/users/")  # anything else sends him back
    page.wait_for_url("**/accounts/password/")
    page.fill("#id_old_password", generated)
    page.fill("#id_new_password1", "12345678")
    page.fill("#id_new_password2", "12345678")
    page.click("main button[type=submit]")
    # the rules are reported at the new password, where they apply
    errors = page.locator("#id_new_password1_error").inner_text()
    assert "这个密码太常见了。" in errors and "密码只包含数字。" in errors
    check(page, shots, "14-weak-password")
    page.fill("#id_old_password", generated)
    page.fill("#id_new_password1", "Liu-fang-Chikan-7")
    page.fill("#id_new_password2", "Liu-fang-Chikan-8")
    page.click("main button[type=submit]")
    assert "输入的两个密码不一致。" in page.locator("#id_new_password2_error").inner_text()
    page.fill("#id_old_password", generated)
    page.fill("#id_new_password1", "Liu-fang-Chikan-7")
    page.fill("#id_new_password2", "Liu-fang-Chikan-7")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))
    assert "密码已修改。" in page.locator("main").inner_text()
    check(page, shots, "15-home-after-change")
    liu.refresh_from_db()
    assert not liu.must_change_password


def test_lockout_and_unlock_by_county_admin(org_tree, browser_page, screenshot_dir):
    page, shots, tree = browser_page, screenshot_dir, org_tree
    for attempt in range(5):
        login(page, "teacher", f"wrong-{attempt}")
    page.wait_for_selector("text=账户已暂时锁定")
    check(page, shots, "20-locked-out")
    login(page, "teacher", PASSWORD)  # even the right password is refused now
    assert "账户已暂时锁定" in page.locator("main").inner_text()

    login(page, "ck_admin", PASSWORD)
    page.wait_for_url(re.compile(r"/$"))
    page.goto(f"/orgs/users/{tree.teacher.pk}/")
    assert "密码输错次数过多，账户已暂时锁定" in page.locator("main").inner_text()
    check(page, shots, "21-user-locked")
    page.click("main >> text=解除锁定")
    page.wait_for_url(f"**/orgs/users/{tree.teacher.pk}/")
    text = page.locator("main").inner_text()
    assert f"已解除登录锁定，{tree.teacher.display_name} 现在可以重新登录。" in text
    assert "账户已暂时锁定" not in text
    check(page, shots, "22-user-unlocked")

    logout(page)
    login(page, "teacher", PASSWORD)
    page.wait_for_url(re.compile(r"/$"))
    assert "教师 · 湛江市第二十一小学" in page.locator("h1").first.inner_text()


def test_county_admin_adds_a_person_and_resets_a_password(org_tree, browser_page, screenshot_dir):
    page, shots, tree = browser_page, screenshot_dir, org_tree
    login(page, "ck_admin", PASSWORD)
    page.wait_for_url(re.compile(r"/$"))
    page.goto(f"/orgs/units/{tree.school.pk}/")
    page.click("main >> text=添加人员")
    page.wait_for_url("**/orgs/users/new/**")
    page.click("main button[type=submit]")
    assert page.locator("#id_real_name_error").inner_text() == "这个字段是必填项。"
    check(page, shots, "30-user-new-errors")
    page.fill("#id_real_name", "陈静")
    page.fill("#id_mobile", "13900000021")
    page.fill("#id_subject", "英语")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=临时密码")
    assert "本人首次登录后必须修改密码。" in page.locator("main").inner_text()
    check(page, shots, "31-user-created")
    chen = User.objects.get(mobile="13900000021")
    assert chen.must_change_password
    assert Membership.objects.get(user=chen).unit == tree.school

    page.click("main >> text=查看用户")
    page.wait_for_url(f"**/orgs/users/{chen.pk}/")
    check(page, shots, "32-user-detail")
    page.once("dialog", lambda dialog: dialog.dismiss())  # changed his mind: nothing happens
    page.click("main >> text=重置密码")
    assert page.url.endswith(f"/orgs/users/{chen.pk}/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("main >> text=重置密码")
    page.wait_for_selector("text=密码已重置")
    assert "本人下次登录后必须修改密码。" in page.locator("main").inner_text()
    check(page, shots, "33-password-reset")
