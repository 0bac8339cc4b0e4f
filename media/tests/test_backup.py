"""``backup_files`` / ``restore_files``: a round trip gives back every stored file byte for byte
(local folder or, with JPK_TEST_STORAGE=s3, the bucket), an existing file is kept unless
--overwrite, and a damaged or foreign archive stops with a Chinese message (issue 12)."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from media.backup import MANIFEST, stored_names

FILES = {
    "files/ab/微课 第1课时.mp4": os.urandom(300_000),
    "files/cd/教学设计.pdf": b"%PDF-1.4 " + os.urandom(5_000),
    "frames/ef-poster.jpg": b"\xff\xd8\xff" + os.urandom(100),
    "contacts/empty.txt": b"",
}


def digest_of_storage() -> dict:
    out = {}
    for name, _size in stored_names():
        with default_storage.open(name, "rb") as fh:
            out[name] = hashlib.sha256(fh.read()).hexdigest()
    return out


def wipe():
    for name, _size in list(stored_names()):
        default_storage.delete(name)


@pytest.fixture
def stored():
    wipe()
    for name, data in FILES.items():
        assert default_storage.save(name, ContentFile(data)) == name
    yield {name: hashlib.sha256(data).hexdigest() for name, data in FILES.items()}
    wipe()


def test_round_trip(stored, tmp_path, capsys):
    archive = tmp_path / "files.tar"
    call_command("backup_files", "--output", str(archive))
    assert "已备份 4 个文件" in capsys.readouterr().err
    wipe()
    assert digest_of_storage() == {}
    call_command("restore_files", "--input", str(archive))
    assert "已恢复 4 个文件" in capsys.readouterr().out
    assert digest_of_storage() == stored
    # again: everything exists, nothing is written twice
    call_command("restore_files", "--input", str(archive))
    assert "已恢复 0 个文件（0 字节），跳过已存在的 4 个" in capsys.readouterr().out
    assert digest_of_storage() == stored


def test_overwrite_replaces_a_changed_file(stored, tmp_path):
    archive = tmp_path / "files.tar"
    call_command("backup_files", "-o", str(archive))
    name = "files/cd/教学设计.pdf"
    default_storage.delete(name)
    default_storage.save(name, ContentFile(b"changed since"))
    call_command("restore_files", "-i", str(archive))
    assert digest_of_storage()[name] != stored[name]  # kept by default
    call_command("restore_files", "-i", str(archive), "--overwrite")
    assert digest_of_storage() == stored


def test_the_archive_streams_through_a_pipe(stored, monkeypatch):
    """``-``: stdout and stdin (``backup_files | ssh … restore_files``)."""
    import sys

    buffer = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(buffer))
    call_command("backup_files")
    data = buffer.getvalue()
    monkeypatch.undo()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r|") as tar:
        names = [m.name for m in tar]
    assert names == sorted(FILES) + [MANIFEST]
    wipe()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    call_command("restore_files", stdout=io.StringIO())
    assert digest_of_storage() == stored


def test_a_truncated_archive_is_refused_with_what_to_do(stored, tmp_path):
    archive = tmp_path / "files.tar"
    call_command("backup_files", "-o", str(archive))
    cut = tmp_path / "cut.tar"
    cut.write_bytes(archive.read_bytes()[:200_000])
    wipe()
    with pytest.raises(CommandError, match="备份文件已损坏或不完整.*已有的文件会跳过"):
        call_command("restore_files", "-i", str(cut))


def test_an_archive_without_manifest_or_with_a_wrong_file_is_refused(stored, tmp_path):
    foreign = tmp_path / "foreign.tar"
    with tarfile.open(foreign, "w") as tar:
        info = tarfile.TarInfo("files/x.bin")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
    with pytest.raises(CommandError, match="缺少清单"):
        call_command("restore_files", "-i", str(foreign))
    archive = tmp_path / "files.tar"
    call_command("backup_files", "-o", str(archive))
    raw = archive.read_bytes()
    pos = raw.index(FILES["frames/ef-poster.jpg"][:50])
    tampered = tmp_path / "tampered.tar"
    tampered.write_bytes(raw[:pos] + b"\x00" * 50 + raw[pos + 50:])
    wipe()
    with pytest.raises(CommandError, match="1 个文件内容不一致（如 frames/ef-poster.jpg）"):
        call_command("restore_files", "-i", str(tampered))


def test_an_unsafe_name_is_refused(tmp_path):
    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as tar:
        info = tarfile.TarInfo("../../etc/x")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(CommandError, match="不安全"):
        call_command("restore_files", "-i", str(evil))


def test_a_missing_input_file_is_named(tmp_path):
    with pytest.raises(CommandError, match="无法打开备份文件"):
        call_command("restore_files", "-i", str(tmp_path / "nope.tar"))
