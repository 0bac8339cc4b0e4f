"""On a phone (390 px, Chromium, the site's CSP enforced), not logged in: open the showcase, filter
it, open a course, play its video and seek in it (the server answers Range requests)."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_visitor_filters_the_gallery_and_plays_a_course(transactional_db, world, csp_browser_page, screenshot_dir):
    page = csp_browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/accounts/login/")
    page.click("[data-showcase-link]")
    page.wait_for_url("**/showcase/")
    assert page.locator("h1").inner_text() == "精品课展示"
    assert page.locator("[data-course]").count() == 2
    assert page.locator(f"[data-course='{world.gold.pk}'] img").get_attribute("loading") == "lazy"
    page.wait_for_function("() => [...document.querySelectorAll('[data-course] img')].every(i => i.complete && i.naturalWidth > 0)")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(screenshot_dir / "showcase-gallery-phone.png"), full_page=True)

    assert not page.locator("#sc-subject").is_visible()  # the filters fold away on a phone
    page.click(".sc-more summary")
    page.select_option("#sc-subject", "语文")
    page.click("[data-showcase-filters] button[type=submit]")
    page.wait_for_url("**/showcase/?*subject=*")
    assert [page.locator("[data-course]").nth(i).get_attribute("data-course")
            for i in range(page.locator("[data-course]").count())] == [str(world.gold.pk)]
    page.click(f"[data-course='{world.gold.pk}'] a")
    page.wait_for_url(f"**/showcase/{world.gold.pk}/")
    assert page.locator("h1").inner_text() == "秋天"
    assert page.locator("[data-award]").inner_text() == "市级精品课"
    assert page.locator("[data-kind]").evaluate_all("els => els.map(e => e.dataset.kind)") == ["video", "lesson_plan"]

    page.wait_for_function("() => document.querySelector('video').readyState >= 1")
    assert page.evaluate("() => document.querySelector('video').duration") == pytest.approx(4, abs=0.2)
    played = page.evaluate("() => { const v = document.querySelector('video'); v.muted = true; "
                           "return v.play().then(() => true, e => String(e)); }")
    assert played is True
    page.wait_for_function("() => document.querySelector('video').currentTime > 0.3")
    # seeking: the browser asks for a byte range; the server's 206 makes the whole video seekable
    assert page.evaluate("() => { const v = document.querySelector('video'); "
                         "return v.seekable.length && v.seekable.end(0); }") == pytest.approx(4, abs=0.2)
    page.evaluate("() => { const v = document.querySelector('video'); v.pause(); v.currentTime = 3; }")
    page.wait_for_function("() => { const v = document.querySelector('video'); return !v.seeking && v.currentTime >= 2.9; }")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(screenshot_dir / "showcase-course-phone.png"), full_page=True)
