"""In Chromium with the site's Content-Security-Policy enforced: a city admin opens the dashboard
(统计) from the nav; every chart renders (ECharts from our origin draws a canvas, its option read
from a json_script block), a tooltip shows on hover, and nothing is refused by the policy."""

import pytest

from reports import services
from reports.tests.test_services import city_special  # noqa: F401  (special-ed awards: the shares chart)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def login(page, username):
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "Secret-pass-2024")
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def test_a_city_admin_opens_the_dashboard_and_the_charts_render(transactional_db, story, tree, city_special,  # noqa: F811
                                                                 csp_browser_page, screenshot_dir):
    page = csp_browser_page
    problems: list[str] = []

    def console(msg):
        if msg.type == "error" and not msg.location.get("url", "").endswith("/favicon.ico"):
            problems.append(msg.text)

    page.on("console", console)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, tree.city_admin.username)
    page.click("#mainnav a:text-is('统计')")
    page.wait_for_url("**/reports/")
    assert page.locator("h1").inner_text() == "湛江市 · 统计"
    page.wait_for_function("() => document.querySelectorAll('.chart[data-rendered=true] canvas').length >= 10")
    keys = page.eval_on_selector_all(".chart[data-rendered=true]", "els => els.map(e => e.id)")
    assert keys == [f"chart-{k}" for k in services.SECTION_KEYS]
    # Each canvas is drawn (not blank): some pixel is not transparent.
    drawn = page.eval_on_selector_all(".chart canvas", """cs => cs.map(c => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < d.length; i += 4) { if (d[i] !== 0) return true; }
        return false; })""")
    assert drawn == [True] * len(services.SECTION_KEYS)
    # A tooltip in the canvas (richText) on hover: no HTML with style attributes for the policy to refuse.
    # (With ECharts' default HTML tooltip this hover logs "Applying inline style violates … style-src".)
    page.locator("#chart-category").scroll_into_view_if_needed()
    box = page.locator("#chart-category canvas").bounding_box()
    page.mouse.move(box["x"] + 10, box["y"] + 10)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=5)
    page.wait_for_timeout(300)  # not an assertion on time: lets the hover be handled before the screenshot
    page.screenshot(path="/tmp/reports-tooltip.png")
    assert page.locator("#table-units tbody tr").count() == 3
    assert page.locator("#xlsx-units").get_attribute("href").startswith("/reports/units.xlsx?")
    page.screenshot(path=str(screenshot_dir / "reports-dashboard-city.png"), full_page=True)
    page.screenshot(path="/tmp/reports-dashboard-city.png", full_page=True)
    # A phone: the charts fit the screen.
    page.set_viewport_size({"width": 375, "height": 812})
    page.reload()
    page.wait_for_function("() => document.querySelectorAll('.chart[data-rendered=true] canvas').length >= 10")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    page.screenshot(path="/tmp/reports-dashboard-phone.png", full_page=True)
    assert problems == []
