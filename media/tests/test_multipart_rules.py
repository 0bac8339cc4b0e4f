"""The rules of direct uploads (media.rules): size, type, part size, part numbers, expiry, owner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from media import rules

MiB = 1024 * 1024


def test_size():
    assert rules.upload_size_error(100 * MiB, 1100 * MiB, 1024 * MiB) is None
    assert rules.upload_size_error(1024 * MiB, 1100 * MiB, 1024 * MiB) is None
    assert rules.upload_size_error(1024 * MiB + 1, 1100 * MiB, 1024 * MiB) == "文件太大：1.00 GB，这里最多 1.00 GB。请压缩后再上传。"
    assert rules.upload_size_error(200 * MiB, 100 * MiB, 0) == "文件太大：200.0 MB，这里最多 100.0 MB。请压缩后再上传。"
    assert rules.upload_size_error(200 * MiB, 0, 0) is None
    assert rules.upload_size_error(0, 100, 0) == "文件是空的（0 字节），不能上传：请检查是否选错了文件，或文件是否已损坏。"
    assert rules.upload_size_error(-1, 100, 0) == rules.upload_size_error(0, 100, 0)


def test_type_by_extension():
    assert rules.upload_type_error("微课.MP4", ("mp4",)) is None
    assert rules.upload_type_error("照片.JPG", ("jpeg",)) is None  # aliases: jpg → jpeg
    assert rules.upload_type_error("课件.exe", ()) is None  # a slot without formats takes anything
    assert rules.upload_type_error("课件.exe", ("pdf", "docx")) == "这里不接受 .exe 文件，只接受：PDF、Word (docx)。请选择正确的文件。"
    assert rules.upload_type_error("课件", ("pdf",)) == "文件名“课件”没有扩展名，无法判断类型。这里接受：PDF。"


def test_type_by_content():
    assert rules.sniffed_type_error("mp4", ("mp4",)) is None
    assert rules.sniffed_type_error("pdf", ("mp4",), "a.mp4") == (
        "“a.mp4”的实际内容是 PDF，这里只接受：MP4。文件已删除，请选择正确的文件重新上传。")
    assert rules.sniffed_type_error("unknown", (), "x.bin").startswith("“x.bin”的内容无法识别")
    # An Office file with an open password is OLE2 inside: accepted where Office files are.
    assert rules.sniffed_type_error("doc", ("docx",)) is None


@pytest.mark.parametrize(("size", "part"), [
    (1, 32 * MiB), (1100 * MiB, 32 * MiB), (32 * MiB * 10_000, 32 * MiB),
    (32 * MiB * 10_000 + 1, 33 * MiB), (64 * MiB * 10_000, 64 * MiB),
])
def test_part_size_stays_within_16_and_64_mib(size, part):
    assert rules.part_size_for(size) == part
    assert rules.parts_count(size, part) <= rules.MAX_PARTS


def test_part_size_preference_is_clamped():
    assert rules.part_size_for(100, preferred=1 * MiB) == 16 * MiB
    assert rules.part_size_for(100, preferred=500 * MiB) == 64 * MiB
    assert rules.parts_count(32 * MiB + 1, 32 * MiB) == 2 and rules.parts_count(1, 32 * MiB) == 1


def test_part_numbers():
    assert rules.part_numbers_error([1, 2, 3], 3) is None
    assert rules.part_numbers_error([], 3) == "请给出要上传的分块编号。"
    assert rules.part_numbers_error([0], 3) == "分块编号 0 不对：这个文件分为 3 块，编号从 1 到 3。"
    assert rules.part_numbers_error([4], 3) == "分块编号 4 不对：这个文件分为 3 块，编号从 1 到 3。"
    assert rules.part_numbers_error(list(range(1, 102)), 200) == "一次最多签发 100 个分块地址，请分批请求。"


def test_expiry_and_owner():
    now = datetime(2026, 12, 4, 12, tzinfo=UTC)
    assert rules.upload_expired(now - timedelta(hours=24, seconds=1), now, 24) is True
    assert rules.upload_expired(now - timedelta(hours=24), now, 24) is False
    assert rules.may_use_upload(5, 5) is True
    assert rules.may_use_upload(5, 6) is False and rules.may_use_upload(None, None) is False
