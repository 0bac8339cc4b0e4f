"""Serving stored files: owner only, HTTP ranges (video seeking), posters, no public URL."""

from __future__ import annotations

import os

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client, RequestFactory

from api.models import ApiToken
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
    r = owner.get(f"/files/{video.pk}/")
    assert r.status_code == 200
    assert (r["Content-Type"], r["Content-Length"], r["Accept-Ranges"]) == ("video/mp4", "10000", "bytes")
    assert r["Content-Disposition"].startswith("inline")
    assert body(r) == DATA


@pytest.mark.parametrize(
    "header, start, end",
    [("bytes=0-99", 0, 99), ("bytes=9000-", 9000, 9999), ("bytes=-500", 9500, 9999), ("bytes=9990-20000", 9990, 9999)],
)
def test_ranges_are_206(owner, video, header, start, end):
    r = owner.get(f"/files/{video.pk}/", HTTP_RANGE=header)
    assert r.status_code == 206
    assert r["Content-Range"] == f"bytes {start}-{end}/10000"
    assert r["Content-Length"] == str(end - start + 1)
    assert body(r) == DATA[start:end + 1]


@pytest.mark.parametrize("header", ["bytes=10000-", "bytes=500-100", "bytes=-0"])
def test_unsatisfiable_range_is_416(owner, video, header):
    r = owner.get(f"/files/{video.pk}/", HTTP_RANGE=header)
    assert r.status_code == 416
    assert r["Content-Range"] == "bytes */10000"


def test_several_ranges_or_a_stale_if_range_get_the_whole_file(owner, video):
    assert owner.get(f"/files/{video.pk}/", HTTP_RANGE="bytes=0-1,5-6").status_code == 200
    r = owner.get(f"/files/{video.pk}/", HTTP_RANGE="bytes=0-1", HTTP_IF_RANGE='"other"')
    assert r.status_code == 200
    r = owner.get(f"/files/{video.pk}/", HTTP_RANGE="bytes=0-1", HTTP_IF_RANGE=r["ETag"])
    assert r.status_code == 206


def test_download_is_an_attachment_with_the_display_name(owner, video):
    r = owner.get(f"/files/{video.pk}/?download=1")
    assert r["Content-Disposition"] == "attachment; filename*=utf-8''%E7%AC%AC%E4%B8%80%E8%AF%BE%E6%97%B6.mp4"


def test_unknown_kinds_are_never_shown_inline(owner, video):
    video.kind = FileKind.UNKNOWN
    video.save()
    r = owner.get(f"/files/{video.pk}/")
    assert r["Content-Type"] == "application/octet-stream"
    assert r["Content-Disposition"].startswith("attachment")
    assert r["X-Content-Type-Options"] == "nosniff"


def test_poster(owner, video):
    r = owner.get(f"/files/{video.pk}/poster.jpg")
    assert (r.status_code, r["Content-Type"]) == (200, "image/jpeg")
    assert body(r) == b"\xff\xd8\xff poster"
    assert owner.get(f"/files/{video.pk}/title.jpg").status_code == 404  # not extracted yet


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
    r = client.get(f"/files/{video.pk}/", HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_RANGE="bytes=0-9")
    assert r.status_code == 206 and body(r) == DATA[:10]


def test_nothing_is_under_a_public_url(client, tree, video):
    assert client.get(f"/media/{video.storage_key}").status_code == 404
    assert client.get(f"/static/../media/{video.storage_key}").status_code == 404


def test_file_response_for_other_views(rf: RequestFactory, video):
    """Courses serve their resources with the same function after their own check."""
    request = rf.get("/", HTTP_RANGE="bytes=100-199")
    r = services.file_response(request, video)
    assert r.status_code == 206 and body(r) == DATA[100:200]
    r = services.file_response(rf.get("/"), video, key=video.poster_key)
    assert r["Content-Type"] == "image/jpeg"


def test_missing_content_is_404(owner, video):
    default_storage.delete(video.storage_key)
    assert owner.get(f"/files/{video.pk}/").status_code == 404


def test_served_in_blocks(owner, video, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        r = owner.get(f"/files/{video.pk}/", HTTP_RANGE="bytes=0-")
    assert r.streaming
    blocks = list(r.streaming_content)
    assert all(len(b) <= 256 * 1024 for b in blocks)
