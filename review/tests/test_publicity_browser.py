"""On a phone (390 px, Chromium, the site's CSP enforced): a member of the public opens a 公示,
reads the results and submits an objection with a picture."""

import pytest

from review.models import Objection

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_an_objection_from_a_phone(transactional_db, pub, csp_browser_page, settings, tmp_path, screenshot_dir):
    settings.MEDIA_ROOT = tmp_path
    page = csp_browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/gongshi/")
    page.click(f"a[href='/gongshi/{pub.slug}/']")
    page.wait_for_selector("#objection-form")
    assert "认识天地" in page.locator("#items").inner_text()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390 + 1  # no sideways scrolling
    page.fill("#id_name", "张三")
    page.fill("#id_contact", "12345")
    page.fill("#id_content", "该课程与网上已有课程雷同")
    page.click("#objection-form button[type=submit]")
    page.wait_for_selector("text=请填写手机号码")
    page.screenshot(path=str(screenshot_dir / "publicity-objection-phone.png"), full_page=True)
    page.fill("#id_contact", "13712345678")
    item = pub.items.get(course_title="认识天地")
    page.select_option("#id_item", str(item.pk))
    page.set_input_files("#id_attachment", files=[{"name": "证据.png", "mimeType": "image/png", "buffer": PNG}])
    page.click("#objection-form button[type=submit]")
    page.wait_for_selector("#received")
    o = Objection.objects.get()
    assert (o.name, o.contact, o.item_id, o.attachment_type) == ("张三", "13712345678", item.pk, "image/png")
