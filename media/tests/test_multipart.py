"""Direct uploads to the object store (media.multipart) through the API, against a loopback S3
server: the test sends the parts to the presigned URLs itself with ``requests``, as a browser does."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from audit.models import Event
from courses.models import Resource
from media import multipart
from media.models import MultipartUpload, StoredFile

MiB = 1024 * 1024
MP4_HEAD = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2avc1mp41"


def mp4_bytes(size: int) -> bytes:
    """``size`` bytes that start like an MP4 (the type is judged by the first bytes)."""
    return MP4_HEAD + os.urandom(size - len(MP4_HEAD))


def post(client, path, data=None):
    return client.post(path, json.dumps(data or {}), content_type="application/json")


def start(client, on_course, size, name="第一课时 微课.mp4", slot="video"):
    return post(client, f"/api/v1/courses/{on_course.pk}/periods/1/slots/{slot}/uploads", {"filename": name, "size": size})


def put_part(client, upload_id, number, data):
    r = post(client, f"/api/v1/files/multipart/{upload_id}/sign", {"parts": [number]})
    assert r.status_code == 200, r.content.decode()
    [signed] = r.json()["parts"]
    assert signed["number"] == number
    response = requests.put(signed["url"], data=data, timeout=60)
    assert response.status_code == 200, response.text
    return response.headers["ETag"]


pytestmark = pytest.mark.usefixtures("probes")


@pytest.fixture
def teacher(client, tree):
    client.force_login(tree.teacher)
    return client


def test_parts_go_straight_to_the_bucket_resume_and_complete(teacher, tree, course, s3, probes,
                                                             django_capture_on_commit_callbacks, monkeypatch):
    data = mp4_bytes(16 * MiB + 1000)
    r = start(teacher, course, len(data))
    assert r.status_code == 201, r.content.decode()
    body = r.json()
    assert (body["size"], body["part_size"], body["parts_count"], body["complete"], body["file_id"]) == (
        len(data), 32 * MiB, 1, False, None)
    # A small file is one part; a 16 MiB part size is the smallest the rules give.
    upload = MultipartUpload.objects.get(pk=body["id"])
    assert (upload.owner, upload.course_id, upload.period, upload.slot, upload.formats) == (
        tree.teacher, course.pk, 1, "video", ["mp4"])
    assert upload.key.startswith("files/") and "微课" not in upload.key
    # Two parts, to resume between them: make the part size the smallest the rules allow.
    MultipartUpload.objects.filter(pk=upload.pk).update(part_size=16 * MiB)
    uid = body["id"]
    assert teacher.get(f"/api/v1/files/multipart/{uid}").json()["parts_count"] == 2

    put_part(teacher, uid, 1, data[:16 * MiB])
    # After a reload (or on another web node) the client asks what the store holds.
    parts = teacher.get(f"/api/v1/files/multipart/{uid}/parts").json()
    assert [(p["number"], p["size"]) for p in parts] == [(1, 16 * MiB)]
    r = post(teacher, f"/api/v1/files/multipart/{uid}/complete")
    assert (r.status_code, r.json()["detail"]) == (409, "还有 1 个分块没有上传（第 2 块起），请继续上传后再完成。")
    put_part(teacher, uid, 2, data[16 * MiB:])
    assert [p["number"] for p in teacher.get(f"/api/v1/files/multipart/{uid}/parts").json()] == [1, 2]

    readers = []
    opened = multipart.open_ranges

    def spy(*args, **kwargs):
        reader = opened(*args, **kwargs)
        readers.append(reader)
        return reader

    monkeypatch.setattr(multipart, "open_ranges", spy)
    with django_capture_on_commit_callbacks(execute=True):
        r = post(teacher, f"/api/v1/files/multipart/{uid}/complete")
    assert r.status_code == 200, r.content.decode()
    stored = StoredFile.objects.get()
    assert r.json()["id"] == str(stored.pk)
    assert (stored.owner, stored.size, stored.kind, stored.original_name, stored.storage_key) == (
        tree.teacher, len(data), "mp4", "第一课时 微课.mp4", upload.key)
    # The type was read from the object's first bytes with a range request, not the whole object.
    assert readers and sum(reader.fetched for reader in readers) <= 64 * 1024
    # The bytes are in the bucket, under the storage's prefix, whole.
    got = s3.client.get_object(Bucket=s3.bucket, Key=s3.prefix + upload.key)["Body"].read()
    assert got == data
    assert s3.client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", []) == []
    # The same rows and work as a tus upload: audit entry, probe queued.
    assert probes == [str(stored.pk)]
    assert Event.objects.filter(action="media.file.upload", actor=tree.teacher, target_id=str(stored.pk)).count() == 1
    upload.refresh_from_db()
    assert upload.stored_file == stored
    # Completing again (a retried request) answers with the same file.
    r = post(teacher, f"/api/v1/files/multipart/{uid}/complete")
    assert (r.status_code, r.json()["id"], StoredFile.objects.count()) == (200, str(stored.pk), 1)
    # The client then puts the file into its slot, as after a tus upload.
    r = teacher.put(f"/api/v1/courses/{course.pk}/periods/1/slots/video", json.dumps({"file_id": str(stored.pk)}),
                    content_type="application/json")
    assert r.status_code == 200, r.content.decode()
    assert Resource.objects.get(period__course=course, slot_kind="video").file == stored


def test_refusals_say_what_to_fix(teacher, client, tree, course, s3):
    r = start(teacher, course, 10 * MiB, name="微课.avi")
    assert (r.status_code, r.json()["detail"]) == (415, "这里不接受 .avi 文件，只接受：MP4。请选择正确的文件。")
    r = start(teacher, course, 10 * MiB, name="微课")
    assert (r.status_code, r.json()["detail"]) == (415, "文件名“微课”没有扩展名，无法判断类型。这里接受：MP4。")
    r = start(teacher, course, 1100 * MiB)  # within the site's cap (1100 MB), over the slot's (1024 MB)
    assert (r.status_code, r.json()["detail"]) == (413, "文件太大：1.07 GB，这里最多 1.00 GB。请压缩后再上传。")
    r = start(teacher, course, 0)
    assert (r.status_code, r.json()["detail"]) == (400, "文件是空的（0 字节），不能上传：请检查是否选错了文件，或文件是否已损坏。")
    r = start(teacher, course, 10, slot="nonsense")
    assert r.status_code == 404
    assert MultipartUpload.objects.count() == 0
    assert s3.client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", []) == []


def test_site_cap_applies_too(teacher, course, s3, settings):
    settings.UPLOAD_MAX_BYTES = 100 * MiB
    r = start(teacher, course, 101 * MiB)
    assert (r.status_code, r.json()["detail"]) == (413, "文件太大：101.0 MB，这里最多 100.0 MB。请压缩后再上传。")


def test_only_the_owner_and_the_lead_teacher(teacher, client, tree, course, s3):
    uid = start(teacher, course, 100).json()["id"]
    client.force_login(tree.other_teacher)
    # Somebody else's course: not even visible.
    assert start(client, course, 100).status_code == 404
    # Somebody else's upload: 404 on every operation.
    missing = "找不到这个上传：它不存在、已被删除或已过期，请重新上传文件。"
    for r in (client.get(f"/api/v1/files/multipart/{uid}"), client.get(f"/api/v1/files/multipart/{uid}/parts"),
              post(client, f"/api/v1/files/multipart/{uid}/sign", {"parts": [1]}),
              post(client, f"/api/v1/files/multipart/{uid}/complete"), client.delete(f"/api/v1/files/multipart/{uid}")):
        assert (r.status_code, r.json()["detail"]) == (404, missing)
    assert MultipartUpload.objects.filter(pk=uid).exists()
    client.logout()
    assert client.get(f"/api/v1/files/multipart/{uid}").status_code == 401


def test_part_numbers_are_checked(teacher, course, s3):
    uid = start(teacher, course, 100).json()["id"]
    r = post(teacher, f"/api/v1/files/multipart/{uid}/sign", {"parts": [2]})
    assert (r.status_code, r.json()["detail"]) == (400, "分块编号 2 不对：这个文件分为 1 块，编号从 1 到 1。")
    r = post(teacher, f"/api/v1/files/multipart/{uid}/sign", {"parts": []})
    assert (r.status_code, r.json()["detail"]) == (400, "请给出要上传的分块编号。")


def test_content_that_is_not_what_the_slot_accepts_is_deleted(teacher, course, s3, probes):
    data = b"%PDF-1.4\n" + os.urandom(2000)
    uid = start(teacher, course, len(data), name="伪装.mp4").json()["id"]
    key = MultipartUpload.objects.get(pk=uid).key
    put_part(teacher, uid, 1, data)
    r = post(teacher, f"/api/v1/files/multipart/{uid}/complete")
    assert (r.status_code, r.json()["detail"]) == (
        400, "“伪装.mp4”的实际内容是 PDF，这里只接受：MP4。文件已删除，请选择正确的文件重新上传。")
    assert StoredFile.objects.count() == 0 and not MultipartUpload.objects.exists() and probes == []
    assert s3.client.list_objects_v2(Bucket=s3.bucket, Prefix=s3.prefix + key).get("KeyCount") == 0


def test_a_size_other_than_declared_is_refused(teacher, course, s3):
    uid = start(teacher, course, 2000).json()["id"]
    put_part(teacher, uid, 1, mp4_bytes(1500))
    r = post(teacher, f"/api/v1/files/multipart/{uid}/complete")
    assert (r.status_code, r.json()["detail"]) == (
        409, "第 1 块的大小不对（文件声明为 2000 字节，每块 33554432 字节）。请取消后重新上传。")
    assert StoredFile.objects.count() == 0


def test_expired_upload_answers_410(teacher, course, s3, settings):
    uid = start(teacher, course, 100).json()["id"]
    MultipartUpload.objects.filter(pk=uid).update(updated_at=timezone.now() - timedelta(hours=25))
    r = post(teacher, f"/api/v1/files/multipart/{uid}/sign", {"parts": [1]})
    assert (r.status_code, r.json()["detail"]) == (
        410, "这个上传已过期（超过 24 小时没有进展），已上传的部分会被清理。请重新选择文件上传。")


def test_abort_removes_the_multipart_upload(teacher, course, s3):
    uid = start(teacher, course, 1000).json()["id"]
    put_part(teacher, uid, 1, mp4_bytes(1000))
    assert len(s3.client.list_multipart_uploads(Bucket=s3.bucket)["Uploads"]) == 1
    r = teacher.delete(f"/api/v1/files/multipart/{uid}")
    assert r.status_code == 204
    assert s3.client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", []) == []
    assert not MultipartUpload.objects.exists()
    assert teacher.get(f"/api/v1/files/multipart/{uid}").status_code == 404


def test_cleanup_aborts_stale_and_stray_uploads(teacher, tree, course, s3):
    from media.tasks import cleanup_stale_uploads

    stale = start(teacher, course, 1000).json()["id"]
    fresh = start(teacher, course, 1000).json()["id"]
    MultipartUpload.objects.filter(pk=stale).update(updated_at=timezone.now() - timedelta(hours=25))
    # A multipart upload the store knows but no row (a node died between the two).
    stray = s3.client.create_multipart_upload(Bucket=s3.bucket, Key=s3.prefix + "files/ab/stray")["UploadId"]
    # moto dates every multipart upload 2010-11-10, so the stray counts as stale at once, while the
    # fresh upload (same date in the store) is kept: its row says it is in progress.
    assert multipart.cleanup_stale_multipart() == {"multipart": 1, "stray_multipart": 1}
    assert list(MultipartUpload.objects.values_list("pk", flat=True)) == [MultipartUpload.objects.get(pk=fresh).pk]
    left = s3.client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", [])
    assert [u["UploadId"] for u in left] == [MultipartUpload.objects.get(pk=fresh).upload_id] and stray
    later = timezone.now() + timedelta(hours=25)
    assert multipart.cleanup_stale_multipart(now=later) == {"multipart": 1, "stray_multipart": 0}
    assert s3.client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", []) == []
    assert not MultipartUpload.objects.exists()
    # The periodic task runs both cleanups.
    assert cleanup_stale_uploads.call() == {"uploads": 0, "stray_files": 0, "multipart": 0, "stray_multipart": 0}


@pytest.fixture
def local_storage(settings):
    from jingpinke import storage

    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": storage.LOCAL_BACKEND}}


def test_local_storage_refuses_direct_uploads(teacher, course, local_storage):
    r = start(teacher, course, 100)
    assert (r.status_code, r.json()["detail"]) == (
        400, "本站的文件保存在服务器本地，不支持直传到对象存储。请使用普通上传（/api/v1/uploads/）。")


def test_storage_cors_command_sets_the_bucket_rule(s3):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("storage_cors", "--origin", "https://jpk.example.cn", stdout=out)
    rule = s3.client.get_bucket_cors(Bucket=s3.bucket)["CORSRules"][0]
    assert (rule["AllowedOrigins"], sorted(rule["AllowedMethods"]), rule["ExposeHeaders"]) == (
        ["https://jpk.example.cn"], ["GET", "HEAD", "POST", "PUT"], ["ETag", "Content-Length", "Content-Range", "Accept-Ranges"])
    assert "https://jpk.example.cn" in out.getvalue()


def test_storage_cors_command_needs_the_object_store(db, local_storage):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="不支持直传到对象存储"):
        call_command("storage_cors", "--origin", "https://jpk.example.cn")


def test_the_course_page_tells_the_widget_which_way_to_upload(teacher, course, s3, settings):
    html = teacher.get(f"/courses/{course.pk}/").content.decode()
    assert 'data-storage="s3"' in html
    assert f'data-direct-url="/api/v1/courses/{course.pk}/periods/1/slots/video/uploads"' in html
    from jingpinke import storage

    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": storage.LOCAL_BACKEND}}
    assert 'data-storage="tus"' in teacher.get(f"/courses/{course.pk}/").content.decode()
