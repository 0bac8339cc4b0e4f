"""Serving stored files: owner only, HTTP ranges (video seeking), posters, no public URL.

Runs with both storages: with S3 (``JPK_TEST_STORAGE=s3``) the view redirects to a presigned URL
and ``served`` follows it to the loopback store with the same Range headers, so the same
assertions hold for what the browser receives."""

from __future__ import annotations

import os

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client, RequestFactory

from api.models import ApiToken
from jingpinke.s3server import app_streaming_only, local_storage_only, s3_test_run, served
from media import services
from media.models import FileKind, StoredFile

DATA = os.urandom(10_000)


@pytest.fixture
def video(tree):
    key = default_storage.save("files/te/test-video", ContentFile(DATA))
    poster = default_storage.save("frames/te/test-poster.jpg", ContentFile(b"\xff\xd8\xff poster"))
    return StoredFile.objects.create(owner=tree.teacher, storage_key=key, original_name="第一课时.mp4", size=len(DATA),
                                     sha256="ab" * 32, kind=FileKind.MP4, poster_key=poster)


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def owner(client, tree):
    client.force_login(tree.teacher)
    return client


def test_owner_gets_the_whole_file(owner, video):
    r = served(owner.get(f"/files/{video.pk}/"))
    assert r.status_code == 200
    assert (r["Content-Type"], r["Content-Length"], r["Accept-Ranges"]) == ("video/mp4", "10000", "bytes")
    assert r["Content-Disposition"].startswith("inline")
    assert body(r) == DATA


@pytest.mark.parametrize(
    "header, start, end",
    [("bytes=0-99", 0, 99), ("bytes=9000-", 9000, 9999), ("bytes=-500", 9500, 9999), ("bytes=9990-20000", 9990, 9999)],
)
def test_ranges_are_206(owner, video, header, start, end):
    r = served(owner.get(f"/files/{video.pk}/", HTTP_RANGE=header))
    assert r.status_code == 206
    assert r["Content-Range"] == f"bytes {start}-{end}/10000"
    assert r["Content-Length"] == str(end - start + 1)
    assert body(r) == DATA[start:end + 1]


@app_streaming_only
@pytest.mark.parametrize("header", ["bytes=10000-", "bytes=500-100", "bytes=-0"])
def test_unsatisfiable_range_is_416(owner, video, header):
    r = served(owner.get(f"/files/{video.pk}/", HTTP_RANGE=header))
    assert r.status_code == 416
    assert r["Content-Range"] == "bytes */10000"


@app_streaming_only
def test_several_ranges_or_a_stale_if_range_get_the_whole_file(owner, video):
    assert owner.get(f"/files/{video.pk}/", HTTP_RANGE="bytes=0-1,5-6").status_code == 200
    r = served(owner.get(f"/files/{video.pk}/", HTTP_RANGE="bytes=0-1", HTTP_IF_RANGE='"other"'))
    assert r.status_code == 200
    r = served(owner.get(f"/files/{video.pk}/", HTTP_RANGE="bytes=0-1", HTTP_IF_RANGE=r["ETag"]))
    assert r.status_code == 206


def test_download_is_an_attachment_with_the_display_name(owner, video):
    r = served(owner.get(f"/files/{video.pk}/?download=1"))
    assert r["Content-Disposition"] == "attachment; filename*=utf-8''%E7%AC%AC%E4%B8%80%E8%AF%BE%E6%97%B6.mp4"


def test_unknown_kinds_are_never_shown_inline(owner, video):
    video.kind = FileKind.UNKNOWN
    video.save()
    r = served(owner.get(f"/files/{video.pk}/"))
    assert r["Content-Type"] == "application/octet-stream"
    assert r["Content-Disposition"].startswith("attachment")
    if not s3_test_run():  # a store cannot add it; the attachment above is what matters there
        assert r["X-Content-Type-Options"] == "nosniff"


def test_poster(owner, video):
    r = served(owner.get(f"/files/{video.pk}/poster.jpg"))
    assert (r.status_code, r["Content-Type"]) == (200, "image/jpeg")
    assert body(r) == b"\xff\xd8\xff poster"
    assert served(owner.get(f"/files/{video.pk}/title.jpg")).status_code == 404  # not extracted yet


def test_anonymous_is_sent_to_login_and_others_get_404(client, tree, video):
    r = client.get(f"/files/{video.pk}/")
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")
    for user in (tree.other_teacher, tree.school_admin, tree.city_admin):
        other = Client()
        other.force_login(user)
        assert other.get(f"/files/{video.pk}/").status_code == 404
        assert other.get(f"/files/{video.pk}/", HTTP_RANGE="bytes=0-10").status_code == 404
        assert other.get(f"/files/{video.pk}/poster.jpg").status_code == 404


def test_bearer_token_can_fetch(client, tree, video):
    _, raw = ApiToken.issue(tree.teacher, "t")
    r = served(client.get(f"/files/{video.pk}/", HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_RANGE="bytes=0-9"))
    assert r.status_code == 206 and body(r) == DATA[:10]


def test_nothing_is_under_a_public_url(client, tree, video):
    assert client.get(f"/media/{video.storage_key}").status_code == 404
    assert client.get(f"/static/../media/{video.storage_key}").status_code == 404


def test_file_response_for_other_views(rf: RequestFactory, video):
    """Courses serve their resources with the same function after their own check."""
    request = rf.get("/", HTTP_RANGE="bytes=100-199")
    r = served(services.file_response(request, video), {"Range": "bytes=100-199"})
    assert r.status_code == 206 and body(r) == DATA[100:200]
    r = served(services.file_response(rf.get("/"), video, key=video.poster_key), {})
    assert r["Content-Type"] == "image/jpeg"


def test_missing_content_is_404(owner, video):
    default_storage.delete(video.storage_key)
    assert served(owner.get(f"/files/{video.pk}/")).status_code == 404


@app_streaming_only
def test_served_in_blocks(owner, video, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        r = served(owner.get(f"/files/{video.pk}/", HTTP_RANGE="bytes=0-"))
    assert r.streaming
    blocks = list(r.streaming_content)
    assert all(len(b) <= 256 * 1024 for b in blocks)


@local_storage_only
def test_behind_nginx_the_file_is_sent_by_x_accel_redirect(owner, video, settings):
    """JPK_X_ACCEL_REDIRECT: the app checks access and names the file; nginx sends the bytes."""
    settings.X_ACCEL_REDIRECT = "/internal-media/"
    r = owner.get(f"/files/{video.pk}/?download=1", HTTP_RANGE="bytes=0-9")
    assert r.status_code == 200 and not r.streaming and r.content == b""
    assert r["X-Accel-Redirect"] == f"/internal-media/{video.storage_key}"
    assert (r["Content-Type"], r["ETag"], r["Cache-Control"]) == ("video/mp4", f'"{video.storage_key.rsplit("/", 1)[-1]}"', "private, max-age=3600")
    assert r["Content-Disposition"] == "attachment; filename*=utf-8''%E7%AC%AC%E4%B8%80%E8%AF%BE%E6%97%B6.mp4"
    assert owner.get(f"/files/{video.pk}/poster.jpg")["X-Accel-Redirect"] == f"/internal-media/{video.poster_key}"
    other = Client()
    other.force_login(video.owner.__class__.objects.get(username="other_teacher"))
    denied = other.get(f"/files/{video.pk}/")
    assert denied.status_code == 404 and not denied.has_header("X-Accel-Redirect")
    default_storage.delete(video.storage_key)
    assert owner.get(f"/files/{video.pk}/").status_code == 404


@pytest.mark.skipif(not s3_test_run(), reason="object storage only (JPK_TEST_STORAGE=s3)")
def test_object_storage_answers_with_a_short_lived_presigned_redirect(owner, video, settings):
    from urllib.parse import parse_qs, urlsplit

    from jingpinke import storage

    r = owner.get(f"/files/{video.pk}/?download=1")
    assert r.status_code == 302 and r.content == b""
    assert r["Cache-Control"] == "private, no-store"  # the next request is checked again
    assert not r.has_header("ETag")
    url = urlsplit(r["Location"])
    assert f"{url.scheme}://{url.netloc}" == storage.store_origin()
    query = parse_qs(url.query)
    assert query["X-Amz-Expires"] == ["300"]
    assert query["response-content-type"] == ["video/mp4"]
    assert query["response-content-disposition"][0].startswith("attachment; filename*=utf-8''")
    store = served(r)
    assert (store.status_code, store["Content-Type"], store.content) == (200, "video/mp4", DATA)
    assert store["Content-Disposition"] == "attachment; filename*=utf-8''%E7%AC%AC%E4%B8%80%E8%AF%BE%E6%97%B6.mp4"
    settings.STORAGE_PUBLIC_URL = "https://files.example.cn"  # browsers reach the store elsewhere
    storage.reset_clients()
    try:
        public = owner.get(f"/files/{video.pk}/")
        assert public["Location"].startswith(f"https://files.example.cn/{storage.bucket_name()}/{video.storage_key}?")
    finally:
        settings.STORAGE_PUBLIC_URL = ""
        storage.reset_clients()


@pytest.mark.skipif(not s3_test_run(), reason="object storage only (JPK_TEST_STORAGE=s3)")
def test_pages_may_load_play_and_upload_from_the_store(owner):
    from jingpinke import storage

    policy = owner.get("/")["Content-Security-Policy"]
    directives = dict((part.split(" ", 1) + [""])[:2] for part in policy.split("; "))
    for name in ("img-src", "media-src", "connect-src"):
        assert storage.store_origin() in directives[name].split()
    assert storage.store_origin() not in directives["script-src"].split()


def test_store_origin_and_policy_for_the_configured_store():
    from jingpinke import storage

    path_style = storage.s3_options(endpoint_url="http://10.0.0.5:9000", bucket="jpk")
    assert storage.store_origin(path_style, "") == "http://10.0.0.5:9000"
    assert storage.store_origin(path_style, "https://files.example.cn") == "https://files.example.cn"
    oss = storage.s3_options(endpoint_url="https://oss-cn-guangzhou.aliyuncs.com", bucket="jpk", addressing_style="virtual")
    assert storage.store_origin(oss, "") == "https://jpk.oss-cn-guangzhou.aliyuncs.com"
    policy = storage.csp_with_store({"DIRECTIVES": {"img-src": ["'self'", "data:"], "script-src": ["'self'"]}},
                                    "https://jpk.oss-cn-guangzhou.aliyuncs.com")
    assert policy["DIRECTIVES"] == {
        "img-src": ["'self'", "data:", "https://jpk.oss-cn-guangzhou.aliyuncs.com"],
        "script-src": ["'self'"],
        "media-src": ["'self'", "https://jpk.oss-cn-guangzhou.aliyuncs.com"],
        "connect-src": ["'self'", "https://jpk.oss-cn-guangzhou.aliyuncs.com"],
    }
