"""The tus 1.0 endpoint through Django's test client: protocol, errors, auth, names, streaming."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tracemalloc
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.http import HttpRequest
from django.test import Client

from api.models import ApiToken
from audit.models import Event
from jingpinke.s3server import s3_test_run
from media import services, storage
from media.models import StoredFile, Upload
from media.tests.tus_helpers import ENDPOINT, TUS, create, head, metadata, patch, probes, stored_sha256  # noqa: F401

pytestmark = pytest.mark.usefixtures("probes")


def upload_url(response) -> str:
    assert response.status_code == 201, response.content.decode()
    return response["Location"].replace("http://testserver", "")


@pytest.fixture
def teacher_client(client, tree):
    client.force_login(tree.teacher)
    return client


def test_options_announces_the_protocol(client, settings):
    settings.UPLOAD_MAX_BYTES = 1100 * 1024 * 1024
    response = client.options(ENDPOINT)
    assert response.status_code == 204
    assert response["Tus-Resumable"] == "1.0.0"
    assert response["Tus-Version"] == "1.0.0"
    assert response["Tus-Extension"] == "creation,termination,checksum,expiration"
    assert response["Tus-Checksum-Algorithm"] == "sha1,sha256,md5"
    assert response["Tus-Max-Size"] == str(1100 * 1024 * 1024)


def test_upload_in_chunks_creates_the_stored_file(teacher_client, tree, probes, django_capture_on_commit_callbacks):
    data = os.urandom(300_000)
    url = upload_url(create(teacher_client, len(data), "第一课时 微课.mp4"))
    upload = Upload.objects.get()
    assert upload.owner == tree.teacher and upload.length == len(data) and upload.original_name == "第一课时 微课.mp4"
    assert Path(upload.partial_path).parent == Path(storage.upload_dir())

    r = head(teacher_client, url)
    assert (r.status_code, r["Upload-Offset"], r["Upload-Length"], r["Cache-Control"]) == (200, "0", "300000", "no-store")
    assert r["Tus-Resumable"] == "1.0.0"

    r = patch(teacher_client, url, data[:100_000], 0)
    assert (r.status_code, r["Upload-Offset"]) == (204, "100000")
    assert "X-Jpk-File-Id" not in r
    assert head(teacher_client, url)["Upload-Offset"] == "100000"
    with django_capture_on_commit_callbacks(execute=True):
        r = patch(teacher_client, url, data[100_000:], 100_000)
    assert (r.status_code, r["Upload-Offset"]) == (204, "300000")

    stored = StoredFile.objects.get()
    assert r["X-Jpk-File-Id"] == str(stored.pk)
    assert (stored.owner, stored.size, stored.original_name) == (tree.teacher, len(data), "第一课时 微课.mp4")
    assert stored.sha256 == ""  # left to the background check (see the next test)
    assert stored.storage_key.startswith("files/") and "微课" not in stored.storage_key
    with default_storage.open(stored.storage_key) as fh:
        assert fh.read() == data
    assert not Path(upload.partial_path).exists()
    assert probes == [str(stored.pk)]
    assert Event.objects.filter(action="media.file.upload", actor=tree.teacher, target_id=str(stored.pk)).count() == 1
    # HEAD after completion still answers, with the file id, for a client that lost it.
    r = head(teacher_client, url)
    assert (r["Upload-Offset"], r["X-Jpk-File-Id"]) == ("300000", str(stored.pk))
    body = teacher_client.get(f"/api/v1/files/uploads/{upload.pk}").json()
    assert body == {"id": str(upload.pk), "length": 300000, "offset": 300000, "complete": True, "file_id": str(stored.pk)}


def test_wrong_offset_is_409_and_nothing_is_written(teacher_client):
    url = upload_url(create(teacher_client, 1000))
    assert patch(teacher_client, url, b"a" * 400, 0).status_code == 204
    r = patch(teacher_client, url, b"b" * 100, 200)
    assert r.status_code == 409
    assert "服务器已收到 400 字节" in r.content.decode()
    r = patch(teacher_client, url, b"b" * 100, 500)
    assert r.status_code == 409
    upload = Upload.objects.get()
    assert upload.offset == 400
    assert Path(upload.partial_path).read_bytes() == b"a" * 400


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "md5"])
def test_checksum_verified_per_request(teacher_client, algorithm):
    url = upload_url(create(teacher_client, 200))
    good = b"x" * 100
    digest = base64.b64encode(hashlib.new(algorithm, good).digest()).decode()
    r = patch(teacher_client, url, good, 0, HTTP_UPLOAD_CHECKSUM=f"{algorithm} {digest}")
    assert (r.status_code, r["Upload-Offset"]) == (204, "100")
    r = patch(teacher_client, url, b"y" * 100, 100, HTTP_UPLOAD_CHECKSUM=f"{algorithm} {digest}")
    assert r.status_code == 460
    assert "校验失败" in r.content.decode()
    upload = Upload.objects.get()
    assert upload.offset == 100
    assert Path(upload.partial_path).read_bytes() == good  # the bad chunk was discarded
    assert head(teacher_client, url)["Upload-Offset"] == "100"


def test_unknown_checksum_algorithm_is_400(teacher_client):
    url = upload_url(create(teacher_client, 10))
    r = patch(teacher_client, url, b"0123456789", 0, HTTP_UPLOAD_CHECKSUM="crc32 AAAA")
    assert r.status_code == 400
    assert "不支持的校验算法" in r.content.decode()
    assert Upload.objects.get().offset == 0


def test_termination_removes_the_partial_file(teacher_client):
    url = upload_url(create(teacher_client, 100))
    patch(teacher_client, url, b"z" * 10, 0)
    partial = Path(Upload.objects.get().partial_path)
    assert partial.exists()
    r = teacher_client.delete(url, **TUS)
    assert r.status_code == 204
    assert not partial.exists() and Upload.objects.count() == 0
    assert head(teacher_client, url).status_code == 404
    assert patch(teacher_client, url, b"z", 10).status_code == 404


def test_other_users_get_404(teacher_client, tree):
    url = upload_url(create(teacher_client, 100))
    other = Client()
    other.force_login(tree.other_teacher)
    assert head(other, url).status_code == 404
    r = patch(other, url, b"z" * 10, 0)
    assert r.status_code == 404 and "找不到这个上传" in r.content.decode()
    assert other.delete(url, **TUS).status_code == 404
    assert Upload.objects.get().offset == 0
    upload = Upload.objects.get()
    assert other.get(f"/api/v1/files/uploads/{upload.pk}").status_code == 404


def test_anonymous_is_401(client, tree):
    r = client.post(ENDPOINT, **TUS, HTTP_UPLOAD_LENGTH="10")
    assert r.status_code == 401
    assert "请先登录" in r.content.decode()
    assert r["Content-Type"].startswith("text/plain")


def test_bearer_token(client, tree, probes):
    _, raw = ApiToken.issue(tree.teacher, "upload script")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    url = upload_url(create(client, 5, "教学设计.pdf", **auth))
    r = patch(client, url, b"%PDF-", 0, **auth)
    assert r.status_code == 204
    assert StoredFile.objects.get().owner == tree.teacher
    bad = {"HTTP_AUTHORIZATION": "Bearer jpk_nonsense"}
    r = create(client, 5, **bad)
    assert r.status_code == 401 and "API 令牌无效" in r.content.decode()


def test_queries_per_patch(client, tree, django_assert_max_num_queries):
    """A PATCH in the middle of an upload: the token, the upload and the new offset (the upload is
    not read again under the lock when its partial file is as long as the offset read); nothing that
    grows with the file or the number of PATCHes."""
    _, raw = ApiToken.issue(tree.teacher, "upload script")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    url = upload_url(create(client, 30, **auth))
    assert patch(client, url, b"a" * 10, 0, **auth).status_code == 204  # the token's last use is recorded
    with django_assert_max_num_queries(3):
        assert patch(client, url, b"b" * 10, 10, **auth).status_code == 204


def test_queries_of_the_last_patch(client, tree, django_assert_max_num_queries):
    """The PATCH that finishes a file (one per upload in the locust run): the token, the upload
    (once), the offset, then the file, its audit entry, the upload's link to it and the queued
    check, in one transaction; the owner is not read again."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _, raw = ApiToken.issue(tree.teacher, "upload script")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    url = upload_url(create(client, 20, **auth))
    assert patch(client, url, b"a" * 10, 0, **auth).status_code == 204
    with django_assert_max_num_queries(7), CaptureQueriesContext(connection) as queries:
        assert patch(client, url, b"b" * 10, 10, **auth).status_code == 204
    assert not [q["sql"] for q in queries.captured_queries if 'FROM "orgs_user"' in q["sql"]
                and 'FROM "api_apitoken"' not in q["sql"]]
    # the offset is written with the link to the file, by one UPDATE of the upload
    assert len([q for q in queries.captured_queries if q["sql"].startswith('UPDATE "media_upload"')]) == 1
    upload, stored = Upload.objects.get(), StoredFile.objects.get()
    assert (upload.offset, upload.stored_file_id, stored.owner) == (20, stored.pk, tree.teacher)


def test_queries_of_the_creation(client, tree, django_assert_max_num_queries):
    """The creation POST: the token, then one INSERT that counts the open uploads as it inserts
    (no COUNT of its own); the row is the one the ORM would have written."""
    _, raw = ApiToken.issue(tree.teacher, "upload script")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    create(client, 5, **auth)  # the token's last use is recorded
    with django_assert_max_num_queries(2):
        r = create(client, 30, "教学设计（终稿）.pdf", **auth)
    assert r.status_code == 201
    upload = Upload.objects.get(pk=upload_url(r).rstrip("/").rsplit("/", 1)[1])
    assert (upload.owner, upload.length, upload.offset, upload.stored_file, upload.original_name) == (
        tree.teacher, 30, 0, None, "教学设计（终稿）.pdf")
    assert upload.metadata == {"filename": "教学设计（终稿）.pdf"} and Path(upload.partial_path).exists()
    assert upload.created_at == upload.updated_at and r["Upload-Expires"]
    assert Upload.objects.filter(owner=tree.teacher, metadata__filename="教学设计（终稿）.pdf").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_patch_after_the_database_connection_was_closed_or_broken(client, tree):
    """Connections are kept between requests (CONN_MAX_AGE): one closed meanwhile is opened again,
    one broken under Django (PostgreSQL restarted) is noticed by the health check and replaced."""
    from django.db import close_old_connections, connection

    _, raw = ApiToken.issue(tree.teacher, "upload script")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    url = upload_url(create(client, 30, **auth))
    assert patch(client, url, b"a" * 10, 0, **auth).status_code == 204
    connection.close()  # (a no-op on the suite's in-memory SQLite; jingpinke/tests/test_database.py has a file)
    close_old_connections()  # request_started (Django's test client does not send it)
    assert patch(client, url, b"b" * 10, 10, **auth).status_code == 204
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        connection.connection.close()  # broken underneath Django
        close_old_connections()
    assert patch(client, url, b"c" * 10, 20, **auth).status_code == 204
    upload = Upload.objects.get()
    assert upload.offset == 30 and upload.stored_file_id
    assert (default_storage.open(upload.stored_file.storage_key).read()) == b"a" * 10 + b"b" * 10 + b"c" * 10


def test_session_needs_the_csrf_token_bearer_does_not(tree):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(tree.teacher)
    browser.get("/")  # sets the CSRF cookie
    r = create(browser, 10)
    assert r.status_code == 403 and "CSRF" in r.content.decode()
    token = browser.cookies["csrftoken"].value
    assert create(browser, 10, HTTP_X_CSRFTOKEN=token).status_code == 201
    _, raw = ApiToken.issue(tree.teacher, "s")
    script = Client(enforce_csrf_checks=True)
    assert create(script, 10, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 201


def test_must_change_password_is_refused(client, tree):
    tree.teacher.must_change_password = True
    tree.teacher.save()
    client.force_login(tree.teacher)
    r = create(client, 10)
    assert r.status_code == 403 and "修改初始密码" in r.content.decode()


def test_over_the_size_cap_is_413(teacher_client, settings):
    settings.UPLOAD_MAX_BYTES = 1000
    r = create(teacher_client, 1001)
    assert r.status_code == 413
    assert "文件太大" in r.content.decode()
    assert Upload.objects.count() == 0
    assert create(teacher_client, 1000).status_code == 201


def test_more_bytes_than_the_length_is_413(teacher_client):
    url = upload_url(create(teacher_client, 10))
    r = patch(teacher_client, url, b"z" * 11, 0)
    assert r.status_code == 413 and "超出了文件长度" in r.content.decode()
    assert Upload.objects.get().offset == 0


def test_protocol_errors(teacher_client):
    r = teacher_client.post(ENDPOINT, HTTP_UPLOAD_LENGTH="10")
    assert r.status_code == 412 and r["Tus-Version"] == "1.0.0"
    assert teacher_client.post(ENDPOINT, **TUS).status_code == 400  # no Upload-Length
    assert teacher_client.post(ENDPOINT, **TUS, HTTP_UPLOAD_LENGTH="-1").status_code == 400
    assert teacher_client.post(ENDPOINT, **TUS, HTTP_UPLOAD_DEFER_LENGTH="1").status_code == 400
    r = teacher_client.post(ENDPOINT, **TUS, HTTP_UPLOAD_LENGTH="10", HTTP_UPLOAD_METADATA="filename ***")
    assert r.status_code == 400 and "Base64" in r.content.decode()
    url = upload_url(create(teacher_client, 10))
    r = teacher_client.generic("PATCH", url, data=b"z", content_type="application/json", **TUS, HTTP_UPLOAD_OFFSET="0")
    assert r.status_code == 415
    r = teacher_client.generic("PATCH", url, data=b"z", content_type="application/offset+octet-stream", **TUS)
    assert r.status_code == 400 and "Upload-Offset" in r.content.decode()
    assert teacher_client.get(url, **TUS).status_code == 405
    assert teacher_client.options(url).status_code == 204


def test_empty_file_is_refused_at_creation(teacher_client, probes):
    r = create(teacher_client, 0, "空.docx")
    assert (r.status_code, r.content.decode()) == (
        400, "文件是空的（0 字节），不能上传：请检查是否选错了文件，或文件是否已损坏。\n")
    assert (Upload.objects.count(), StoredFile.objects.count()) == (0, 0)


def test_nul_in_upload_metadata_is_refused(teacher_client):
    r = create(teacher_client, 3, "课件\x00.pptx")
    assert (r.status_code, r.content.decode()) == (
        400, "字段“filename”含有空字符（\\u0000），无法保存：请删除其中的不可见字符后重试。\n")
    assert Upload.objects.count() == 0


def test_non_ascii_digits_in_length_are_refused(teacher_client):
    r = teacher_client.post(ENDPOINT, **TUS, HTTP_UPLOAD_LENGTH="²", HTTP_UPLOAD_METADATA=metadata(filename="a.pdf"))
    assert (r.status_code, r.content.decode()) == (400, "缺少请求头 Upload-Length，或它不是非负整数。\n")


@pytest.mark.parametrize(
    "name, shown",
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\李老师\\桌面\\教学设计.docx", "教学设计.docx"),
        ("课件\x07\x1b[31m.pptx", "课件[31m.pptx"),
        ("evil\u202egpj.exe", "evilgpj.exe"),
        ("📚 微课 🎬.mp4", "📚 微课 🎬.mp4"),
        ("...", ""),
        ("长" * 300 + ".mp4", "长" * 115 + "….mp4"),
    ],
)
def test_file_names_are_display_text_only(teacher_client, name, shown):
    r = teacher_client.post(ENDPOINT, **TUS, HTTP_UPLOAD_LENGTH="3", HTTP_UPLOAD_METADATA=metadata(filename=name))
    url = upload_url(r)
    upload = Upload.objects.get()
    assert upload.original_name == shown
    assert Path(upload.partial_path).name == f"{upload.pk.hex}.part"
    patch(teacher_client, url, b"abc", 0)
    stored = StoredFile.objects.get()
    assert stored.original_name == shown
    assert stored.storage_key.count("/") == 2 and ".." not in stored.storage_key
    if not s3_test_run():  # the local folder: the file is inside it
        assert Path(default_storage.path(stored.storage_key)).resolve().is_relative_to(Path(default_storage.location).resolve())


def test_the_view_never_reads_request_body(teacher_client, monkeypatch):
    """Streaming: the body is read from the stream in CHUNK-sized reads, never as request.body."""

    def forbidden(self):
        raise AssertionError("request.body read: the upload would be held in memory")

    monkeypatch.setattr(HttpRequest, "body", property(forbidden))
    monkeypatch.setattr(storage, "CHUNK", 4096)
    reads = []
    real_read = HttpRequest.read

    def spy(self, *args, **kwargs):
        reads.append(args[0] if args else kwargs.get("size"))
        return real_read(self, *args, **kwargs)

    monkeypatch.setattr(HttpRequest, "read", spy)
    data = os.urandom(100_000)
    url = upload_url(create(teacher_client, len(data)))
    assert patch(teacher_client, url, data, 0).status_code == 204
    assert stored_sha256(StoredFile.objects.get()) == hashlib.sha256(data).hexdigest()
    assert len(reads) == 25 and max(reads) == 4096


class Generated(io.RawIOBase):
    """A request stream of ``size`` bytes generated on the fly (nothing held in memory)."""

    def __init__(self, size: int):
        self.left = size
        self.digest = hashlib.sha256()

    def read(self, n=-1):
        n = self.left if n is None or n < 0 else min(n, self.left)
        block = bytes([self.left % 251]) * n
        self.left -= n
        self.digest.update(block)
        return block


@pytest.mark.parametrize("with_checksum", [False, True])
def test_memory_stays_constant_whatever_the_size(tree, probes, with_checksum):
    """Appending 64 MiB allocates a few blocks at a time, not the file (with a checksum too)."""
    size = 64 * 1024 * 1024
    upload = services.create_upload(tree.teacher, size, {"filename": "大文件.mp4"})
    checksum = ""
    if with_checksum:
        digest, source = hashlib.sha1(), Generated(size)  # its bytes depend on the read sizes: read as append does
        while block := source.read(storage.CHUNK):
            digest.update(block)
        checksum = "sha1 " + base64.b64encode(digest.digest()).decode()
    stream = Generated(size)
    tracemalloc.start()
    try:
        services.append(upload, stream, offset=0, content_length=size, checksum=checksum)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # A 1 MiB block or a few (the one being written; with a checksum, those queued for the hashing thread), not the file.
    assert peak < 8 * 1024 * 1024, peak
    stored = StoredFile.objects.get()
    assert (stored.size, stored_sha256(stored)) == (size, stream.digest.hexdigest())


def test_broken_connection_keeps_what_arrived(tree):
    upload = services.create_upload(tree.teacher, 1000, {})
    services.append(upload, io.BytesIO(b"q" * 300), offset=0, content_length=600)  # client went away at 300
    upload.refresh_from_db()
    assert upload.offset == 300
    assert Path(upload.partial_path).read_bytes() == b"q" * 300


def test_unacknowledged_bytes_are_dropped_and_lost_bytes_reported(teacher_client):
    url = upload_url(create(teacher_client, 1000))
    patch(teacher_client, url, b"a" * 100, 0)
    upload = Upload.objects.get()
    with open(upload.partial_path, "ab") as fh:  # a worker died after writing, before recording
        fh.write(b"junk")
    assert head(teacher_client, url)["Upload-Offset"] == "100"
    assert Path(upload.partial_path).read_bytes() == b"a" * 100
    with open(upload.partial_path, "r+b") as fh:  # the machine crashed: the tail never hit the disk
        fh.truncate(60)
    assert head(teacher_client, url)["Upload-Offset"] == "60"
    assert patch(teacher_client, url, b"b" * 40, 60).status_code == 204


def test_a_second_concurrent_patch_is_423(teacher_client):
    import fcntl

    url = upload_url(create(teacher_client, 100))
    upload = Upload.objects.get()
    with open(upload.partial_path, "r+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        r = patch(teacher_client, url, b"a" * 10, 0)
        assert r.status_code == 423 and "另一个连接" in r.content.decode()
        assert head(teacher_client, url)["Upload-Offset"] == "0"  # HEAD still answers


def test_too_many_open_uploads(teacher_client, tree, monkeypatch):
    monkeypatch.setattr(services, "MAX_OPEN_UPLOADS", 2)
    create(teacher_client, 10)
    create(teacher_client, 10)
    partials = set(storage.upload_dir().glob("*.part"))
    r = create(teacher_client, 10)
    assert r.status_code == 429 and "未完成的上传" in r.content.decode()
    assert Upload.objects.count() == 2
    assert set(storage.upload_dir().glob("*.part")) == partials  # the refused one's partial file is gone
    Upload.objects.filter(pk=Upload.objects.first().pk).update(stored_file=StoredFile.objects.create(
        owner=tree.teacher, storage_key="files/x", size=10, kind="pdf"))  # a finished one does not count
    assert create(teacher_client, 10).status_code == 201
    assert create(teacher_client, 10).status_code == 429
    other = Client()
    other.force_login(tree.other_teacher)  # another person's open uploads are his own
    assert create(other, 10).status_code == 201


def test_file_api(teacher_client, tree):
    url = upload_url(create(teacher_client, 3, "作业.pdf"))
    r = patch(teacher_client, url, b"abc", 0)
    file_id = r["X-Jpk-File-Id"]
    body = teacher_client.get(f"/api/v1/files/{file_id}").json()
    assert (body["id"], body["original_name"], body["size"], body["probe_status"], body["probe_status_label"]) == (
        file_id, "作业.pdf", 3, "pending", "等待检测")
    assert body["url"] == f"/files/{file_id}/"
    assert [f["id"] for f in teacher_client.get("/api/v1/files").json()] == [file_id]
    other = Client()
    other.force_login(tree.other_teacher)
    assert other.get(f"/api/v1/files/{file_id}").status_code == 404
    assert other.get("/api/v1/files").json() == []
    assert Client().get(f"/api/v1/files/{file_id}").status_code == 401


def _upload_in_chunks(user, data: bytes, step: int):
    upload = services.create_upload(user, len(data), {})
    for start in range(0, len(data), step):
        services.append(upload, io.BytesIO(data[start:start + step]), offset=start, content_length=len(data[start:start + step]))
    return StoredFile.objects.get(upload=upload)


def test_the_background_check_records_the_sha256_once(tree, monkeypatch):
    """The upload answers without hashing; the file's check hashes it first thing, once: a check
    run again (a changed spec) does not hash again, and a reader that needs it early computes it."""
    passes = []
    real = storage.sha256_of
    monkeypatch.setattr(storage, "sha256_of", lambda path: passes.append(path) or real(path))
    data = os.urandom(3_000_000)
    stored = _upload_in_chunks(tree.teacher, data, 700_000)
    assert stored.sha256 == "" and passes == []
    services.run_probe(stored.pk)
    stored.refresh_from_db()
    assert stored.sha256 == hashlib.sha256(data).hexdigest() and len(passes) == 1
    services.run_probe(stored.pk)
    assert services.file_sha256(stored) == stored.sha256 and len(passes) == 1
    early = _upload_in_chunks(tree.teacher, data[:1000], 1000)
    assert services.file_sha256(early) == hashlib.sha256(data[:1000]).hexdigest()
    early.refresh_from_db()
    assert early.sha256 == hashlib.sha256(data[:1000]).hexdigest()


def test_without_a_checksum_nothing_is_hashed_while_the_bytes_arrive(tree, monkeypatch):
    """No hashing thread, no hash object: the request only receives and writes."""
    monkeypatch.setattr(storage, "_in_helper_thread", lambda *args: pytest.fail("hashed on the request path"))
    monkeypatch.setattr(hashlib, "sha256", lambda *args: pytest.fail("hashed on the request path"))
    stored = _upload_in_chunks(tree.teacher, b"y" * 3_000_000, 1_000_000)
    assert (stored.size, stored.sha256) == (3_000_000, "")


def test_a_check_that_cannot_read_the_file_leaves_the_sha256_for_the_retry(tree, monkeypatch):
    stored = _upload_in_chunks(tree.teacher, b"x" * 1000, 1000)
    monkeypatch.setattr(storage, "sha256_of", lambda path: (_ for _ in ()).throw(OSError("I/O error")))
    with pytest.raises(OSError):
        services.run_probe(stored.pk)
    stored.refresh_from_db()
    assert (stored.sha256, stored.probe_status) == ("", "pending")


def test_the_file_is_whole_after_a_checksum_failure_and_a_broken_connection(tree):
    data = os.urandom(1_000_000)
    upload = services.create_upload(tree.teacher, len(data), {})
    services.append(upload, io.BytesIO(data[:400_000]), offset=0, content_length=400_000)
    with pytest.raises(services.ServiceError):
        services.append(upload, io.BytesIO(b"x" * 100_000), offset=400_000, content_length=100_000,
                        checksum="sha1 " + base64.b64encode(hashlib.sha1(b"y").digest()).decode())
    services.append(upload, io.BytesIO(data[400_000:700_000]), offset=400_000, content_length=600_000)  # broke at 700k
    services.append(upload, io.BytesIO(data[700_000:]), offset=700_000, content_length=300_000)
    assert stored_sha256(StoredFile.objects.get()) == hashlib.sha256(data).hexdigest()


def test_a_patch_that_read_the_upload_before_another_one_wrote_sees_the_new_offset(tree):
    """The upload is read before its lock is taken: when another request appended meanwhile, the
    partial file is longer than the offset read, the row is read again under the lock, and the
    late request is told the new offset (409) without a byte of the other's being dropped."""
    upload = services.create_upload(tree.teacher, 30, {})
    stale = services.get_upload(tree.teacher, upload.pk)
    services.append(services.get_upload(tree.teacher, upload.pk), io.BytesIO(b"a" * 10), offset=0, content_length=10)
    with pytest.raises(services.ServiceError) as exc:
        services.append(stale, io.BytesIO(b"b" * 10), offset=0, content_length=10)
    assert exc.value.status == 409 and stale.offset == 10
    assert Path(upload.partial_path).read_bytes() == b"a" * 10
    assert services.current_offset(services.get_upload(tree.teacher, upload.pk)) == 10


def test_a_request_that_read_the_upload_before_it_was_finished_does_not_finish_it_again(tree):
    """All bytes there: the row is read again under the lock, whoever finished the file meanwhile."""
    upload = services.create_upload(tree.teacher, 3, {})
    services.append(upload, io.BytesIO(b"abc"), offset=0, content_length=3)
    stale = services.get_upload(tree.teacher, upload.pk)
    stale.stored_file, stale.stored_file_id = None, None  # as read before the finishing PATCH committed
    with open(upload.partial_path, "wb") as fh:  # as if it were still there (moved into the storage)
        fh.write(b"abc")
    assert services.current_offset(stale) == 3 and stale.stored_file_id == upload.stored_file_id
    assert StoredFile.objects.count() == 1


def test_head_finishes_an_upload_whose_finishing_failed(teacher_client, monkeypatch, probes):
    url = upload_url(create(teacher_client, 3))
    finish = services.finish_upload
    monkeypatch.setattr(services, "finish_upload", lambda upload: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        patch(teacher_client, url, b"abc", 0)
    monkeypatch.setattr(services, "finish_upload", finish)
    assert StoredFile.objects.count() == 0
    r = head(teacher_client, url)
    assert r["Upload-Offset"] == "3"
    assert r["X-Jpk-File-Id"] == str(StoredFile.objects.get().pk)


def test_full_disk_is_507(teacher_client, monkeypatch):
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(services.shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 10**6, 10**6))
    r = create(teacher_client, 10**7)
    assert r.status_code == 507 and "磁盘空间不足" in r.content.decode()
    assert Upload.objects.count() == 0
