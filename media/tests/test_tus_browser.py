"""The upload widget (static/js/upload.js + tus-js-client) in Chromium at 375 px.

The widget is put on a page the way a template would (a ``<div data-upload>`` and the script);
the checks: progress to 100 % and the ``jpk:uploaded`` event, automatic retry when a request
fails, and resume after a page reload from where the server stopped.
"""

from __future__ import annotations

import hashlib
import os

import pytest

from media.models import StoredFile, Upload
from media.tests.tus_helpers import probes, stored_sha256  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.usefixtures("probes")]
MiB = 1024 * 1024
DATA = os.urandom(3 * MiB + 4321)
FILE = {"name": "第一课时 微课.mp4", "mimeType": "video/mp4", "buffer": DATA}

WIDGET = """() => {
  window.jpkEvents = [];
  document.addEventListener("jpk:uploaded", e => window.jpkEvents.push(e.detail));
  const d = document.createElement("div");
  d.id = "w";
  d.setAttribute("data-upload", "");
  d.setAttribute("data-slot", "p1-video");
  d.setAttribute("data-chunk-mb", "1");
  d.setAttribute("data-max-mb", "10");
  d.setAttribute("data-label", "选择视频");
  document.querySelector("main").appendChild(d);
  const s = document.createElement("script");
  s.src = "/static/js/upload.js";
  document.head.appendChild(s);
}"""


@pytest.fixture
def page(browser_page, transactional_db, tree):
    page = browser_page
    page.goto("/accounts/login/")
    page.fill("#id_username", tree.teacher.username)
    page.fill("#id_password", "Secret-pass-2024")
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return page


def put_widget(page):
    page.evaluate(WIDGET)
    page.wait_for_selector("#w label:has-text('选择视频')")


def uploaded(page):
    page.wait_for_function("window.jpkEvents.length > 0", timeout=30000)
    return page.evaluate("window.jpkEvents[0]")


def test_upload_with_progress_and_event(page, screenshot_dir, tree):
    put_widget(page)
    patches = []
    page.on("request", lambda r: patches.append(r.headers.get("upload-offset")) if r.method == "PATCH" else None)
    page.set_input_files("#w input[type=file]", FILE)
    detail = uploaded(page)
    stored = StoredFile.objects.get()
    assert detail == {"fileId": str(stored.pk), "name": "第一课时 微课.mp4", "size": len(DATA), "type": "video/mp4",
                      "slot": "p1-video", "uploadUrl": detail["uploadUrl"]}
    assert (stored.owner, stored_sha256(stored), stored.original_name) == (tree.teacher, hashlib.sha256(DATA).hexdigest(), "第一课时 微课.mp4")
    assert patches == [str(n * MiB) for n in range(4)]  # in 1 MiB chunks
    assert page.eval_on_selector("#w progress", "p => p.value") == 100
    assert "上传完成" in page.inner_text("#w .jpk-upload-status")
    assert not page.is_visible("#w [data-act=pause]") and not page.is_visible("#w [data-act=cancel]")
    assert page.is_visible("#w label:has-text('重新选择')")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(screenshot_dir / "media-upload-done.png"), full_page=True)
    # Finished: nothing left to resume.
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('tus::')).length") == 0


def test_too_big_is_refused_before_sending(page):
    put_widget(page)
    page.set_input_files("#w input[type=file]", {**FILE, "buffer": b"0" * (10 * MiB + 1)})
    assert "文件太大" in page.inner_text("#w .jpk-upload-status")
    assert Upload.objects.count() == 0


def test_failed_request_is_retried_automatically(page):
    put_widget(page)
    failures = []

    def flaky(route):
        if route.request.method == "PATCH" and route.request.headers.get("upload-offset") == str(MiB) and not failures:
            failures.append(1)
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/v1/uploads/**", flaky)
    page.set_input_files("#w input[type=file]", FILE)
    detail = uploaded(page)
    assert failures == [1]
    assert stored_sha256(StoredFile.objects.get(pk=detail["fileId"])) == hashlib.sha256(DATA).hexdigest()


def test_resume_after_reload(page, tmp_path):
    # A file on disk, as a teacher picks it: the same name, size and modification time the second time.
    path = tmp_path / "第一课时 微课.mp4"
    path.write_bytes(DATA)
    put_widget(page)
    seen = []

    def stall(route):
        # The server "goes away" after two chunks: the widget keeps retrying until we reload.
        if route.request.method == "PATCH":
            seen.append(route.request.headers.get("upload-offset"))
            if int(route.request.headers.get("upload-offset")) >= 2 * MiB:
                return route.fulfill(status=503, body="维护中")
        route.continue_()

    page.route("**/api/v1/uploads/**", stall)
    page.set_input_files("#w input[type=file]", str(path))
    page.wait_for_function("document.querySelector('#w .jpk-upload-status').textContent.includes('重试')")
    assert Upload.objects.get().offset == 2 * MiB
    page.reload()  # the page (and its retry timers) goes away; then the server comes back
    page.unroute("**/api/v1/uploads/**")
    put_widget(page)
    page.wait_for_function("document.querySelector('#w .jpk-upload-status').textContent.includes('没有传完')")
    offsets = []
    page.on("request", lambda r: offsets.append(r.headers.get("upload-offset")) if r.method == "PATCH" else None)
    page.set_input_files("#w input[type=file]", str(path))
    detail = uploaded(page)
    assert offsets[0] == str(2 * MiB)  # continued from the server's offset, not from 0
    assert Upload.objects.count() == 1
    assert stored_sha256(StoredFile.objects.get(pk=detail["fileId"])) == hashlib.sha256(DATA).hexdigest()


def test_pause_and_resume(page):
    put_widget(page)
    gate = {"hold": True}

    def slow(route):
        if route.request.method == "PATCH" and int(route.request.headers.get("upload-offset")) >= MiB and gate["hold"]:
            return route.fulfill(status=503, body="")
        route.continue_()

    page.route("**/api/v1/uploads/**", slow)
    page.set_input_files("#w input[type=file]", FILE)
    page.wait_for_selector("#w [data-act=pause]", state="visible")
    page.wait_for_function("document.querySelector('#w .jpk-upload-status').textContent.includes('重试')")
    page.click("#w [data-act=pause]")
    page.wait_for_function("document.querySelector('#w .jpk-upload-status').textContent.includes('已暂停')")
    gate["hold"] = False
    page.click("#w [data-act=resume]")
    detail = uploaded(page)
    assert StoredFile.objects.get(pk=detail["fileId"]).size == len(DATA)


def test_cancel_removes_the_upload_on_the_server(page):
    put_widget(page)
    page.route("**/api/v1/uploads/**", lambda route: route.fulfill(status=503, body="")
               if route.request.method == "PATCH" and int(route.request.headers.get("upload-offset")) >= MiB
               else route.continue_())
    page.set_input_files("#w input[type=file]", FILE)
    page.wait_for_function("document.querySelector('#w .jpk-upload-status').textContent.includes('重试')")
    assert Upload.objects.count() == 1
    page.click("#w [data-act=cancel]")
    page.wait_for_function("document.querySelector('#w .jpk-upload-status').textContent.includes('已取消')")
    assert Upload.objects.count() == 0
    assert page.is_visible("#w label:has-text('选择视频')")
