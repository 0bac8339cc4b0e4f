"""推荐资源包 (selection/archive.py): the ZIP of a unit's recommended entries — exactly those
entries, names, checksums, the workbook inside, streaming in blocks, query counts, scope."""

import csv
import hashlib
import io
import os
import tracemalloc
import uuid
import zipfile
from urllib.parse import quote

import openpyxl
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from audit.models import Event
from courses.models import CourseMember, Period, Resource
from media.models import StoredFile
from orgs.models import Role
from orgs.tests.factories import member
from selection import archive, services
from selection.tests.helpers import entry_at, up_to_county

pytestmark = pytest.mark.django_db
API = "/api/v1/selection/campaigns/{c}/units/{u}/package.zip"
PAGE = "/selection/campaigns/{c}/units/{u}/package.zip"
MiB = 1024 * 1024


def attach(course, number, slot, data: bytes, kind: str, name: str = "whatever.bin", status="pass"):
    """Put ``data`` into ``slot`` of 课时 ``number`` (stored in the default storage)."""
    period, _ = Period.objects.get_or_create(course=course, number=number)
    key = default_storage.save(f"files/test/{uuid.uuid4().hex}", ContentFile(data))
    stored = StoredFile.objects.create(owner=course.lead_teacher, storage_key=key, original_name=name, size=len(data),
                                       sha256=hashlib.sha256(data).hexdigest(), kind=kind)
    Resource.objects.create(period=period, slot_kind=slot, file=stored, status=status)
    return stored


@pytest.fixture
def county_package(tree, campaign, make_course, nodes):
    """赤坎区 recommends 探究平面镜成像 (2 课时) first and 秋天 second; declines 加法, leaves 江南 pending;
    霞山区 recommends its own 小数. Every course has files."""
    chinese = make_course(node=nodes[0], title="秋天")
    CourseMember.objects.create(course=chinese, user=member(tree.school, Role.TEACHER, username="helper",
                                                              real_name="王芳"), order=1)
    physics = make_course("experiment", node=nodes[6], title="探究平面镜成像")
    declined = make_course(node=nodes[3], title="加法")
    pending = make_course(node=nodes[4], title="江南")
    neighbour = make_course(node=nodes[5], school=tree.other_school, teacher=tree.other_teacher, title="小数")
    files = {
        "video": attach(chinese, 1, "video", b"\x00\x00\x00\x18ftypmp42" + os.urandom(300_000), "mp4",
                        name="../../秋天 final(1).MOV"),
        "plan": attach(chinese, 1, "lesson_plan", b"%PDF-1.7\n" + os.urandom(5000), "pdf", name="教学设计.docx"),
        "exp_video": attach(physics, 1, "experiment_video", os.urandom(200_000), "mp4"),
        "exp_plan": attach(physics, 2, "experiment_plan", os.urandom(4000), "docx", status="warn"),
        "slides_old": attach(physics, 2, "slides", os.urandom(3000), "doc"),
    }
    for course in (declined, pending, neighbour):
        attach(course, 1, "video", os.urandom(1000), "mp4")
    for course in (chinese, physics, declined, pending):
        up_to_county(course, tree)
    services.decide(tree.county_admin, entry_at(physics, "county").pk, "recommend")
    services.decide(tree.county_admin, entry_at(chinese, "county").pk, "recommend")
    services.decide(tree.county_admin, entry_at(declined, "county").pk, "decline")
    xs_admin = tree.other_county_admin
    services.decide(xs_admin, entry_at(neighbour, "school").pk, "recommend")
    services.decide(xs_admin, entry_at(neighbour, "county").pk, "recommend")
    return {"chinese": chinese, "physics": physics, "files": files}


def download(client, url, **headers):
    response = client.get(url, **headers)
    assert response.status_code == 200, getattr(response, "content", b"")[:500]
    return response, b"".join(response.streaming_content)


EXPECTED = [
    "赤坎区-县级初选-推荐汇总表.xlsx",
    "资源清单.csv",
    "01_赤坎区_初中物理_探究平面镜成像/第1课时_实验教学视频.mp4",
    "01_赤坎区_初中物理_探究平面镜成像/第2课时_实验教学设计.docx",
    "01_赤坎区_初中物理_探究平面镜成像/第2课时_课件.ppt",
    "02_赤坎区_小学语文_秋天/第1课时_微课视频.mp4",
    "02_赤坎区_小学语文_秋天/第1课时_教学设计.pdf",
]


def test_a_file_not_hashed_yet_gets_its_sha256_in_the_manifest(client, tree, campaign, county_package, bearer):
    """A file uploaded moments ago whose background check has not recorded its sha256 yet."""
    video = county_package["files"]["video"]
    expected = video.sha256
    StoredFile.objects.filter(pk=video.pk).update(sha256="")
    _, body = download(client, API.format(c=campaign.pk, u=tree.county.pk), **bearer(tree.county_admin))
    rows = list(csv.reader(io.StringIO(zipfile.ZipFile(io.BytesIO(body)).read("资源清单.csv").decode("utf-8-sig"))))
    assert [r[2] for r in rows if r[0] == EXPECTED[5]] == [expected]
    video.refresh_from_db()
    assert video.sha256 == expected  # recorded, not computed again next time


def test_the_package_holds_exactly_the_units_recommendations(client, tree, campaign, county_package, bearer):
    response, body = download(client, API.format(c=campaign.pk, u=tree.county.pk), **bearer(tree.county_admin))
    assert response["Content-Type"] == "application/zip"
    assert int(response["Content-Length"]) == len(body)
    name = "赤坎区-县级初选-推荐资源包.zip"
    assert response["Content-Disposition"] == (
        f"attachment; filename=\"package-440802-county.zip\"; filename*=UTF-8''{quote(name, safe='')}")
    archive_file = zipfile.ZipFile(io.BytesIO(body))
    assert archive_file.testzip() is None  # every CRC matches
    infos = archive_file.infolist()
    assert [i.filename for i in infos] == EXPECTED
    assert all(i.flag_bits & 0x800 for i in infos)  # UTF-8 names (Windows 10+, macOS)
    assert {i.compress_type for i in infos} == {zipfile.ZIP_STORED}
    # Every stored file is there byte for byte (its sha256 is the one media recorded at upload).
    files = county_package["files"]
    by_path = {EXPECTED[2]: files["exp_video"], EXPECTED[3]: files["exp_plan"], EXPECTED[4]: files["slides_old"],
               EXPECTED[5]: files["video"], EXPECTED[6]: files["plan"]}
    for path, stored in by_path.items():
        assert hashlib.sha256(archive_file.read(path)).hexdigest() == stored.sha256
    # The manifest: a row per file with size and sha256, and they match the bytes.
    text = archive_file.read("资源清单.csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == archive.manifest_headers()
    assert [r[0] for r in rows[1:]] == [EXPECTED[0]] + EXPECTED[2:]
    for row in rows[1:]:
        data = archive_file.read(row[0])
        assert (int(row[1]), row[2]) == (len(data), hashlib.sha256(data).hexdigest())
    video_row = dict(zip(rows[0], rows[-2], strict=True))
    assert {k: video_row[k] for k in ("序号", "推荐顺序", "课程名称", "类别", "学段", "学科", "学校", "所属区县",
                                      "主讲教师", "团队成员", "课时", "资源类型", "文件类型", "检测结论")} == {
        "序号": "2", "推荐顺序": "2", "课程名称": "秋天", "类别": "学科课程", "学段": "小学", "学科": "语文",
        "学校": "湛江市第二十一小学", "所属区县": "赤坎区", "主讲教师": tree.teacher.display_name, "团队成员": "王芳",
        "课时": "1", "资源类型": "微课视频", "文件类型": "MP4 视频", "检测结论": "通过"}
    assert video_row["文件编号"] == str(files["video"].pk)
    # The summary workbook inside is the table of the same two courses.
    sheet = openpyxl.load_workbook(io.BytesIO(archive_file.read(EXPECTED[0]))).active
    table = [list(r) for r in sheet.iter_rows(min_row=5, values_only=True)]
    assert [(r[0], r[8], r[13]) for r in table] == [(1, "探究平面镜成像", 1), (2, "秋天", 2)]
    # The download is in the unit's audit log.
    event = Event.objects.get(action="selection.package")
    assert (event.actor, event.unit_path, event.after) == (tree.county_admin, tree.county.path, {
        "campaign": campaign.pk, "level": "county", "entries": 2, "files": 5, "bytes": len(body)})


def test_the_page_offers_the_package_and_serves_it(client, tree, campaign, county_package):
    client.force_login(tree.county_admin)
    summary = client.get(f"/selection/campaigns/{campaign.pk}/units/{tree.county.pk}/summary/").content.decode()
    url = PAGE.format(c=campaign.pk, u=tree.county.pk)
    assert f'href="{url}"' in summary and "下载资源包（ZIP）" in summary
    assert "5 个资源文件" in summary
    desk = client.get(f"/selection/?campaign={campaign.pk}&held_by={tree.county.pk}").content.decode()
    assert f'href="{url}"' in desk
    response, body = download(client, url)
    assert [i.filename for i in zipfile.ZipFile(io.BytesIO(body)).infolist()] == EXPECTED


def test_a_unit_above_may_download_scope_holds_for_others(client, tree, campaign, county_package, bearer):
    api, page = API.format(c=campaign.pk, u=tree.county.pk), PAGE.format(c=campaign.pk, u=tree.county.pk)
    response, body = download(client, api, **bearer(tree.city_admin))
    assert len(zipfile.ZipFile(io.BytesIO(body)).infolist()) == len(EXPECTED)
    for user in (tree.other_county_admin, tree.teacher, tree.school_admin):
        assert client.get(api, **bearer(user)).status_code == 404
        client.force_login(user)
        assert client.get(page).status_code == 404
    client.logout()
    assert client.get(api).status_code == 401
    assert client.get(page).status_code == 302  # to the login page
    # The neighbour's own package holds only its course.
    response, body = download(client, API.format(c=campaign.pk, u=tree.other_county.pk),
                              **bearer(tree.other_county_admin))
    assert [i.filename for i in zipfile.ZipFile(io.BytesIO(body)).infolist()][2:] == [
        "01_霞山区_小学数学_小数/第1课时_微课视频.mp4"]
    assert Event.objects.filter(action="selection.package").count() == 2  # refusals are not exports


def test_an_empty_package_still_holds_the_table_and_the_manifest(client, tree, campaign, bearer):
    response, body = download(client, API.format(c=campaign.pk, u=tree.county.pk), **bearer(tree.county_admin))
    archive_file = zipfile.ZipFile(io.BytesIO(body))
    assert archive_file.namelist() == ["赤坎区-县级初选-推荐汇总表.xlsx", "资源清单.csv"]
    assert archive_file.read("资源清单.csv").decode("utf-8-sig").count("\r\n") == 2  # headers + the table


def test_a_file_missing_from_storage_refuses_before_the_first_byte(client, tree, campaign, county_package, bearer):
    default_storage.delete(county_package["files"]["plan"].storage_key)
    response = client.get(API.format(c=campaign.pk, u=tree.county.pk), **bearer(tree.county_admin))
    assert response.status_code == 409
    assert "02_赤坎区_小学语文_秋天/第1课时_教学设计.pdf" in response.json()["detail"]
    assert "请联系系统管理员" in response.json()["detail"]
    client.force_login(tree.county_admin)
    page = client.get(PAGE.format(c=campaign.pk, u=tree.county.pk), follow=True)
    assert page.redirect_chain[-1][0] == f"/selection/campaigns/{campaign.pk}/units/{tree.county.pk}/summary/"
    assert "资源包无法生成" in page.content.decode()
    assert not Event.objects.filter(action="selection.package").exists()


# --- streaming: blocks, one file open at a time, flat memory, fixed queries ----------------------------
class RecordingFile:
    """A stored file as the storage hands it out, recording each read() size."""

    def __init__(self, fh, storage):
        self.fh, self.storage, self.closed = fh, storage, False
        storage.open_now += 1
        storage.most_open = max(storage.most_open, storage.open_now)

    def read(self, size=-1):
        self.storage.reads.append(size)
        return self.fh.read(size)

    def close(self):
        if not self.closed:
            self.closed = True
            self.storage.open_now -= 1
        self.fh.close()


class RecordingStorage(FileSystemStorage):
    """The local storage, recording every read() size and how many files are open at once."""

    reads: list = []
    open_now = 0
    most_open = 0

    def open(self, name, mode="rb"):
        return RecordingFile(super().open(name, mode), type(self))


@pytest.fixture
def recording_storage(settings):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "selection.tests.test_archive.RecordingStorage"}}
    RecordingStorage.reads, RecordingStorage.open_now, RecordingStorage.most_open = [], 0, 0
    return RecordingStorage


def test_stored_files_are_read_in_blocks_one_at_a_time_and_only_while_streaming(
        client, tree, campaign, make_course, nodes, bearer, recording_storage):
    course = make_course(node=nodes[0], title="秋天")
    size = 12 * MiB + 12345
    big = attach(course, 1, "video", os.urandom(size), "mp4")
    attach(course, 1, "lesson_plan", os.urandom(10_000), "pdf")
    up_to_county(course, tree)
    services.decide(tree.county_admin, entry_at(course, "county").pk, "recommend")
    response = client.get(API.format(c=campaign.pk, u=tree.county.pk), **bearer(tree.county_admin))
    assert recording_storage.reads == []  # nothing read before the body is consumed
    digest, received = hashlib.sha256(), 0
    tracemalloc.start()
    try:
        for block in response.streaming_content:
            received += len(block)
            digest.update(block)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == int(response["Content-Length"])
    reads = recording_storage.reads
    assert reads and all(0 < n <= archive.CHUNK for n in reads)  # never read() / read(-1): never a whole file
    assert sum(1 for n in reads if n == archive.CHUNK) >= size // archive.CHUNK
    assert recording_storage.most_open == 1 and recording_storage.open_now == 0
    assert peak < 4 * archive.CHUNK < size / 3  # a few blocks in memory, never the 12 MB file
    assert big.size == size


def test_the_number_of_queries_does_not_grow_with_entries_or_files(client, tree, campaign, make_course, nodes, bearer,
                                                                   django_assert_max_num_queries):
    url = API.format(c=campaign.pk, u=tree.county.pk)
    headers = bearer(tree.county_admin)

    def add_course(node, title, periods):
        course = make_course(node=node, title=title)
        for number in range(1, periods + 1):
            for slot in ("video", "lesson_plan", "task_sheet"):
                attach(course, number, slot, os.urandom(100), "pdf")
        up_to_county(course, tree)
        services.decide(tree.county_admin, entry_at(course, "county").pk, "recommend")

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, **headers)
            b"".join(response.streaming_content)
        return len(queries)

    add_course(nodes[0], "一", 1)
    count()  # the first request of a token also records its first use
    small = count()
    for i, node in enumerate(nodes[1:7], 2):
        add_course(node, f"课{i}", 3)
    with django_assert_max_num_queries(14):
        response = client.get(url, **headers)
        body = b"".join(response.streaming_content)
    assert len(zipfile.ZipFile(io.BytesIO(body)).infolist()) == 2 + 3 + 6 * 9
    assert count() == small


class StreamingStorage(RecordingStorage):
    """A storage that offers a streaming open (as the scaled mode's S3 storage should)."""

    streamed: list = []

    def open(self, name, mode="rb"):
        raise AssertionError("open_stream() should be used")

    def open_stream(self, name):
        type(self).streamed.append(name)
        return RecordingFile(FileSystemStorage.open(self, name, "rb"), RecordingStorage)


def test_a_storage_with_a_streaming_open_is_read_through_it(client, tree, campaign, make_course, nodes, bearer,
                                                           recording_storage, settings):
    course = make_course(node=nodes[0], title="秋天")
    stored = attach(course, 1, "video", os.urandom(3 * MiB), "mp4")
    up_to_county(course, tree)
    services.decide(tree.county_admin, entry_at(course, "county").pk, "recommend")
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "selection.tests.test_archive.StreamingStorage"}}
    StreamingStorage.streamed = []
    response, body = download(client, API.format(c=campaign.pk, u=tree.county.pk), **bearer(tree.county_admin))
    assert StreamingStorage.streamed == [stored.storage_key]
    assert max(recording_storage.reads) == archive.CHUNK
    assert hashlib.sha256(zipfile.ZipFile(io.BytesIO(body)).read("01_赤坎区_小学语文_秋天/第1课时_微课视频.mp4")).hexdigest() == stored.sha256


class ZeroFile:
    """``size`` zero bytes, read like a file (no disk involved)."""

    def __init__(self, size):
        self.left = size

    def read(self, n=-1):
        n = self.left if n is None or n < 0 else min(n, self.left)
        self.left -= n
        return bytes(n)

    def close(self):
        pass


class ZeroStorage(FileSystemStorage):
    """The local storage, plus keys ``zeros/<size>``: that many zero bytes (a 2 GiB video for free)."""

    def open(self, name, mode="rb"):
        return ZeroFile(int(name[6:])) if name.startswith("zeros/") else super().open(name, mode)

    def size(self, name):
        return int(name[6:]) if name.startswith("zeros/") else super().size(name)


@pytest.mark.slow
def test_zip64_for_a_file_of_2_gib(client, tree, campaign, make_course, nodes, bearer, tmp_path, settings):
    """A 2 GiB video and a small file after it: ZIP64 sizes and offsets, the Content-Length is
    exact, and the archive opens with zipfile (written sparse: the zeros take no disk)."""
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "selection.tests.test_archive.ZeroStorage"}}
    course = make_course(node=nodes[0], title="秋天")
    period = Period.objects.create(course=course, number=1)
    size = 2 ** 31 + MiB  # just past what a plain ZIP header holds (zipfile.ZIP64_LIMIT)
    stored = StoredFile.objects.create(owner=course.lead_teacher, storage_key=f"zeros/{size}", size=size,
                                       sha256="0" * 64, kind="mp4")
    Resource.objects.create(period=period, slot_kind="video", file=stored, status="pass")
    attach(course, 1, "lesson_plan", b"%PDF-1.7 small", "pdf")
    up_to_county(course, tree)
    services.decide(tree.county_admin, entry_at(course, "county").pk, "recommend")
    response = client.get(API.format(c=campaign.pk, u=tree.county.pk), **bearer(tree.county_admin))
    out = tmp_path / "package.zip"
    zeros = bytes(archive.CHUNK)
    with open(out, "wb") as fh:
        for data in response.streaming_content:
            if len(data) == archive.CHUNK and data == zeros:
                fh.seek(len(data), os.SEEK_CUR)  # keep the copy sparse
            else:
                fh.write(data)
        fh.truncate()
    assert out.stat().st_size == int(response["Content-Length"])
    with zipfile.ZipFile(out) as archive_file:
        video, plan = archive_file.infolist()[2:]
        assert (video.filename, video.file_size) == ("01_赤坎区_小学语文_秋天/第1课时_微课视频.mp4", size)
        assert plan.header_offset > 2 ** 31  # its offset needs the ZIP64 extra field
        assert archive_file.read(plan) == b"%PDF-1.7 small"


# --- names (pure) -----------------------------------------------------------------------------------------
def test_names_are_safe_on_every_system():
    assert archive.safe_name('A/B\\C:D*E?F"G<H>I|J') == "A_B_C_D_E_F_G_H_I_J"
    assert archive.safe_name("  ..秋天\u202egpj.exe\x00 ..  ") == "秋天gpj.exe"
    assert archive.safe_name("CON") == "_CON" and archive.safe_name("nul.txt") == "_nul.txt"
    assert archive.safe_name("") == "_" and archive.safe_name("...") == "_"
    assert archive.safe_name("长" * 60) == "长" * archive.TITLE_CHARS
    assert archive.folder_name(7, 3, "市直属学校", "小学", "数学", "认识 图形") == "007_市直属学校_小学数学_认识 图形"
    assert archive.resource_name(2, "课件", "doc", "slides") == "第2课时_课件.ppt"
    assert archive.resource_name(1, "教学设计", "doc", "lesson_plan") == "第1课时_教学设计.doc"
    assert archive.resource_name(1, "微课视频", "jpeg", "video") == "第1课时_微课视频.jpg"
    assert archive.resource_name(1, "微课视频", "unknown", "video") == "第1课时_微课视频.bin"
    assert [archive.csv_text(v) for v in ("=HYPERLINK(1)", "@x", "+1", "秋天", 3, "")] == [
        "'=HYPERLINK(1)", "'@x", "'+1", "秋天", 3, ""]
    taken = set()
    assert [archive.unique(p, taken) for p in ("a/x.pdf", "a/X.pdf", "a/x.pdf", "a")] == [
        "a/x.pdf", "a/X_2.pdf", "a/x_3.pdf", "a"]


@given(st.text(max_size=200))
def test_safe_name_always_gives_one_plain_component(text):
    name = archive.safe_name(text)
    assert name and len(name) <= archive.TITLE_CHARS
    assert not set(name) & set('<>:"/\\|?*') and not name.startswith((" ", ".")) and not name.endswith((" ", "."))
    assert all(ord(ch) >= 32 for ch in name)
    assert archive.safe_name(name) == name
