"""The upload widget in object-store mode, in Chromium at 375 px: on the real course page a small
generated video goes, under the site's Content-Security-Policy, from the browser straight to the loopback S3 server (Uppy's AWS S3 plugin,
parts PUT to presigned URLs), our API completes it, and the slot shows the file."""

from __future__ import annotations

import hashlib

import pytest

from courses.models import Resource
from media import multipart, testing
from media.models import MultipartUpload, StoredFile

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.usefixtures("probes")]


def login(page, username):
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "Secret-pass-2024")
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def test_a_video_goes_straight_to_the_bucket(transactional_db, tree, course, s3, csp_browser_page, live_server, tmp_path,
                                            screenshot_dir):
    # The bucket lets the site's pages PUT parts and read the ETag of each (as README says to set up).
    multipart.set_bucket_cors([live_server.url])  # what manage.py storage_cors does
    video = testing.make_video(tmp_path / "第一课时 微课.mp4", width=320, height=180, seconds=1)
    data = video.read_bytes()
    page = csp_browser_page  # the Content-Security-Policy enforced: Uppy's bundle must live with it
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    requests_seen = []
    page.on("request", lambda r: requests_seen.append((r.method, r.url)))

    login(page, tree.teacher.username)
    page.goto(f"/courses/{course.pk}/")
    widget = "#slot-1-video [data-upload]"
    assert page.get_attribute(widget, "data-storage") == "s3"
    page.wait_for_selector(f"{widget} label")
    page.set_input_files(f"{widget} input[type=file]", str(video))
    # The card comes back from the attach with the file in it (its check is pending: probes are recorded).
    page.wait_for_function(
        "() => { const b = document.querySelector('#slot-1-video h3 [data-status]');"
        " return b && b.getAttribute('data-status') !== ''; }", timeout=30000)

    stored = StoredFile.objects.get()
    assert (stored.owner, stored.size, stored.kind, stored.original_name) == (tree.teacher, len(data), "mp4", "第一课时 微课.mp4")
    in_bucket = s3.client.get_object(Bucket=s3.bucket, Key=s3.prefix + stored.storage_key)["Body"].read()
    assert hashlib.sha256(in_bucket).hexdigest() == hashlib.sha256(data).hexdigest()
    assert Resource.objects.get(period__course=course, slot_kind="video").file == stored
    assert MultipartUpload.objects.get().stored_file == stored
    # The bytes went to the store, never through the app.
    puts = [url for method, url in requests_seen if method == "PUT" and url.startswith(s3.endpoint)]
    assert len(puts) == 1 and "partNumber=1" in puts[0] and "X-Amz-Signature=" in puts[0]
    assert not [url for method, url in requests_seen if url.startswith(live_server.url + "/api/v1/uploads")]
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('jpk-s3|')).length") == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert violations == []
    page.screenshot(path=str(screenshot_dir / "media-direct-upload-done.png"), full_page=True)
