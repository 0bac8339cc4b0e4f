"""Backup and restore of the stored files (the local media folder or the bucket) as one streamed
tar archive (``manage.py backup_files`` / ``restore_files``).

The archive holds every stored file under its storage name, then ``MANIFEST`` (the last member:
JSON with each name, size and sha256, computed while the bytes went by). Nothing is held whole in
memory: the files are read in blocks (``jingpinke.storage.open_reader``: Range GETs on S3) and
written to the tar stream, which may be a pipe (``-``: stdout) to ``ssh``, ``mc pipe`` or
``ossutil``. Restoring reads the stream once, in order, stores each file under its name and
checks it against the manifest at the end.

Take the database dump first, then the files (README, 部署（规模化模式）): every file a row of the
dump names was stored before the row was written, so it is in the archive.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import time
from collections.abc import Iterator
from pathlib import PurePosixPath

from django.core.files import File
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

MANIFEST = "MANIFEST.jpk-backup.json"
FORMAT = "jingpinke-files/1"


class BackupError(Exception):
    """A Chinese message saying what is wrong with the archive and what to do."""


def stored_names() -> Iterator[tuple[str, int]]:
    """Every stored file as ``(name, size)``, sorted by name."""
    from jingpinke import storage

    if storage.is_s3():
        client, bucket = storage.s3_client(), storage.bucket_name()
        prefix = storage.object_key("")
        paginator = client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                name = obj["Key"][len(prefix):]
                if name and not name.endswith("/"):
                    yield name, int(obj["Size"])
        return
    root = default_storage.location
    found = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for file in files:
            path = os.path.join(folder, file)
            found.append((os.path.relpath(path, root).replace(os.sep, "/"), os.path.getsize(path)))
    yield from sorted(found)


class _Hashing:
    """A file wrapper that hashes what is read through it."""

    def __init__(self, fileobj):
        self.fileobj, self.digest, self.count = fileobj, hashlib.sha256(), 0

    def read(self, size=-1):
        data = self.fileobj.read(size)
        self.digest.update(data)
        self.count += len(data)
        return data

    closed = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:  # read once, in order (a tar stream)
        return False

    def tell(self) -> int:
        return self.count


def write_backup(out) -> dict:
    """Write the archive to the binary stream ``out``; returns ``{"files", "bytes"}``."""
    from jingpinke.storage import open_reader

    manifest = {"format": FORMAT, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "files": []}
    total = 0
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for name, size in stored_names():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = size, int(time.time()), 0o644
            with open_reader(name) as reader:
                hashing = _Hashing(reader)
                tar.addfile(info, hashing)
            manifest["files"].append({"name": name, "size": size, "sha256": hashing.digest.hexdigest()})
            total += size
        data = json.dumps(manifest, ensure_ascii=False, indent=0).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644

        tar.addfile(info, io.BytesIO(data))
    return {"files": len(manifest["files"]), "bytes": total}


def _safe_name(name: str) -> str:
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\\" in name or "\0" in name:
        raise BackupError(_("备份中的文件名“%(name)s”不安全（绝对路径或含“..”），已停止恢复：请确认备份文件来自本平台。")
                          % {"name": name})
    return str(path)


def restore_backup(src, *, overwrite: bool = False) -> dict:
    """Store every file of the archive read from the binary stream ``src``. A file that exists
    already is kept (``skipped``) unless ``overwrite``. Checks sizes and sha256 against the
    manifest; returns ``{"restored", "skipped", "bytes"}``."""
    restored, skipped, total, seen, manifest = 0, 0, 0, {}, None
    try:
        with tarfile.open(fileobj=src, mode="r|*") as tar:
            for member in tar:
                if member.name == MANIFEST:
                    manifest = json.loads(tar.extractfile(member).read().decode())
                    continue
                if not member.isfile():
                    continue
                name = _safe_name(member.name)
                if default_storage.exists(name):
                    if not overwrite:
                        skipped += 1
                        seen[name] = None
                        continue
                    default_storage.delete(name)
                hashing = _Hashing(tar.extractfile(member))
                content = File(hashing, name=os.path.basename(name))
                content.size = member.size
                saved = default_storage.save(name, content)
                if saved != name:
                    raise BackupError(_("文件“%(name)s”被存为“%(saved)s”，与备份不一致。") % {"name": name, "saved": saved})
                seen[name] = (hashing.count, hashing.digest.hexdigest())
                restored += 1
                total += hashing.count
    except (tarfile.TarError, EOFError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BackupError(_("备份文件已损坏或不完整（%(error)s）：已恢复的文件保留，请用完整的备份再运行一次（已有的文件会跳过）。")
                          % {"error": exc}) from exc
    if manifest is None or manifest.get("format") != FORMAT:
        raise BackupError(_("备份文件末尾缺少清单（%(name)s）：备份不完整或不是 backup_files 生成的。已恢复的文件保留。")
                          % {"name": MANIFEST})
    expected = {f["name"]: (f["size"], f["sha256"]) for f in manifest["files"]}
    missing = sorted(set(expected) - set(seen))
    wrong = sorted(n for n, got in seen.items() if got is not None and expected.get(n) != got)
    if missing or wrong:
        raise BackupError(_("备份与清单不符：缺少 %(missing)s 个文件，%(wrong)s 个文件内容不一致（如 %(example)s）。")
                          % {"missing": len(missing), "wrong": len(wrong), "example": (missing + wrong)[0]})
    return {"restored": restored, "skipped": skipped, "bytes": total}
