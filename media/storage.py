"""Where bytes live: partial uploads on local disk, finished files in the default storage.

Finished files are stored under generated keys (``files/ab/<32 hex>``); the client's file name is
never part of a path. With the embedded ``FileSystemStorage`` on the same disk as the upload folder
a finished upload is *moved* (``os.replace``, no copy); with any other storage (S3, …) it is
streamed into it with ``storage.save``.
"""

from __future__ import annotations

import errno
import hashlib
import os
import unicodedata
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage

CHUNK = 1024 * 1024  # bytes read or written at a time: memory stays constant whatever the file size
MAX_NAME_CHARS = 120


def upload_dir() -> Path:
    path = Path(settings.UPLOAD_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def partial_path(upload_id) -> Path:
    return upload_dir() / f"{uuid.UUID(str(upload_id)).hex}.part"


def new_storage_key(prefix: str = "files", suffix: str = "") -> str:
    key = uuid.uuid4().hex
    return f"{prefix}/{key[:2]}/{key}{suffix}"


def display_name(name: str) -> str:
    """The client's file name reduced to harmless display text.

    Drops any directory part (``/`` and ``\\``), control and format characters (including
    bidirectional overrides that disguise extensions), and leading dots; keeps CJK and emoji;
    truncates long names keeping the extension. Never used to build a path.
    """
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
    name = " ".join(name.split()).strip(" .")
    if len(name) > MAX_NAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: MAX_NAME_CHARS - len(ext) - 2] + "…." + ext
        else:
            name = name[: MAX_NAME_CHARS - 1] + "…"
    return name


def sha256_of(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def store_finished(path: Path | str, key: str) -> str:
    """Put the finished partial file ``path`` into the default storage under ``key``.

    Moves it when the storage is a local folder on the same disk; otherwise streams it and
    removes the partial file. Returns the key actually used.
    """
    path = Path(path)
    if isinstance(default_storage, FileSystemStorage):
        target = Path(default_storage.path(key))
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(path, target)
            return key
        except OSError as exc:
            if exc.errno != errno.EXDEV:  # another disk: fall through to a streaming copy
                raise
    with open(path, "rb") as fh:
        saved = default_storage.save(key, File(fh, name=key))
    path.unlink(missing_ok=True)
    return saved


def delete_quietly(key: str) -> None:
    if key:
        try:
            default_storage.delete(key)
        except OSError:  # pragma: no cover - best effort
            pass
