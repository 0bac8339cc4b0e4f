"""Where stored files live: a local folder (embedded default) or an S3-compatible object store.

``JPK_STORAGE_BACKEND=s3`` switches Django's default storage to django-storages' ``S3Storage``
(our subclass ``jingpinke.s3storage.S3Storage``; MinIO, Ceph RGW, Aliyun OSS, Tencent COS, AWS)
configured from the ``JPK_STORAGE_*`` options;
``storages_setting()`` builds the ``STORAGES`` entry from them. Everything else here reads Django
settings at call time, so the tests can switch the backend (``conftest.py``, ``JPK_TEST_STORAGE=s3``).

- ``is_s3()``: is the default storage an object store?
- ``s3_client()`` / ``public_s3_client()``: boto3 clients for the app's own calls and for URLs
  that browsers follow (signed for ``JPK_STORAGE_PUBLIC_URL`` when the store has another address
  outside); ``bucket_name()``, ``object_key(name)`` (the storage's prefix applied).
- ``presigned_get_url(name, …)``: a short-lived download URL with the response's type and
  Content-Disposition fixed by the signature.
- ``x_accel_path(name)``: the nginx-internal path of a local file (``JPK_X_ACCEL_REDIRECT``).
- ``open_reader(name)``: a seekable binary file over the stored bytes: the local file, or a
  ``RangeReader`` that reads the object with HTTP Range GETs (never the whole object at once).
- ``upload_file(path, name)``: a local file into the bucket, multipart, in constant memory.
- ``store_origin()``: the scheme://host[:port] browsers reach the store at (for the CSP).
"""

from __future__ import annotations

import io
import threading
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.files.storage import default_storage

from jingpinke import config

S3_BACKEND = "jingpinke.s3storage.S3Storage"
LOCAL_BACKEND = "django.core.files.storage.FileSystemStorage"
READ_AHEAD = 4 * 1024 * 1024  # bytes a RangeReader fetches at least per request


# --- settings -------------------------------------------------------------------------------------
def s3_options(*, endpoint_url: str, bucket: str, region: str = "us-east-1", access_key: str = "",
               secret_key: str = "", addressing_style: str = "path", signature_version: str = "s3v4",
               prefix: str = "", url_seconds: int = 300, verify: bool = True) -> dict:
    """``OPTIONS`` of django-storages' ``S3Storage`` for one store."""
    return {
        "endpoint_url": endpoint_url or None,
        "bucket_name": bucket,
        "region_name": region or None,
        "access_key": access_key or None,
        "secret_key": secret_key or None,
        "addressing_style": addressing_style or None,
        "signature_version": signature_version or None,
        "location": prefix.strip("/"),
        "querystring_expire": url_seconds,
        "verify": None if verify else False,
        "default_acl": None,  # objects stay private: every download is a presigned URL
        # Keys are generated and never reused; like the local folder, a clash gets a new name
        # rather than overwriting.
        "file_overwrite": False,
    }


def storages_setting() -> dict:
    """Django's ``STORAGES["default"]`` from the ``JPK_STORAGE_*`` options."""
    backend = config.get("JPK_STORAGE_BACKEND").strip().lower()
    if backend in ("", "local"):
        return {"BACKEND": LOCAL_BACKEND}
    if backend != "s3":
        raise ValueError(f"JPK_STORAGE_BACKEND: {backend!r} is neither 'local' nor 's3'")
    bucket = config.get("JPK_STORAGE_BUCKET")
    if not bucket:
        raise ValueError("JPK_STORAGE_BACKEND=s3 needs JPK_STORAGE_BUCKET")
    return {"BACKEND": S3_BACKEND, "OPTIONS": s3_options(
        endpoint_url=config.get("JPK_STORAGE_ENDPOINT_URL"),
        bucket=bucket,
        region=config.get("JPK_STORAGE_REGION"),
        access_key=config.get("JPK_STORAGE_ACCESS_KEY"),
        secret_key=config.get("JPK_STORAGE_SECRET_KEY"),
        addressing_style=config.get("JPK_STORAGE_ADDRESSING_STYLE"),
        signature_version=config.get("JPK_STORAGE_SIGNATURE_VERSION"),
        prefix=config.get("JPK_STORAGE_PREFIX"),
        url_seconds=config.get_int("JPK_STORAGE_URL_SECONDS"),
        verify=config.get_bool("JPK_STORAGE_VERIFY_TLS"),
    )}


# --- which backend ----------------------------------------------------------------------------------
def _options() -> dict:
    return settings.STORAGES["default"].get("OPTIONS", {})


def is_s3(storage=None) -> bool:
    """Is ``storage`` (default: the default storage) an S3 object store?"""
    if storage is None or storage is default_storage:
        return settings.STORAGES["default"]["BACKEND"] == S3_BACKEND
    from storages.backends.s3 import S3Storage

    return isinstance(storage, S3Storage)


def bucket_name() -> str:
    return _options()["bucket_name"]


def object_key(name: str) -> str:
    """The object key of the stored file ``name`` (the storage's prefix applied)."""
    prefix = (_options().get("location") or "").strip("/")
    name = name.lstrip("/")
    return f"{prefix}/{name}" if prefix else name


def url_seconds() -> int:
    return int(_options().get("querystring_expire") or 300)


# --- boto3 clients ------------------------------------------------------------------------------------
_clients: dict = {}
_clients_lock = threading.Lock()


def _client(endpoint_url: str | None):
    import boto3
    from botocore.config import Config

    options = _options()
    cache_key = (endpoint_url, options.get("region_name"), options.get("access_key"), options.get("secret_key"),
                 options.get("addressing_style"), options.get("signature_version"), options.get("verify"))
    with _clients_lock:
        client = _clients.get(cache_key)
        if client is None:
            session = boto3.session.Session()
            client = session.client(
                "s3", endpoint_url=endpoint_url, region_name=options.get("region_name"),
                aws_access_key_id=options.get("access_key"), aws_secret_access_key=options.get("secret_key"),
                verify=options.get("verify"),
                config=Config(signature_version=options.get("signature_version") or "s3v4",
                              s3={"addressing_style": options.get("addressing_style") or "auto"},
                              retries={"max_attempts": 3, "mode": "standard"}))
            _clients[cache_key] = client
        return client


def s3_client():
    """A boto3 S3 client for the app's own requests (the internal endpoint)."""
    return _client(_options().get("endpoint_url"))


def public_endpoint_url() -> str | None:
    """The store's address as browsers reach it: ``JPK_STORAGE_PUBLIC_URL``, else the endpoint."""
    return getattr(settings, "STORAGE_PUBLIC_URL", "") or _options().get("endpoint_url")


def public_s3_client():
    """A boto3 S3 client whose presigned URLs name the public address (signing needs no request)."""
    return _client(public_endpoint_url())


def store_origin(options: dict | None = None, public_url: str | None = None) -> str:
    """``scheme://host[:port]`` of the presigned URLs browsers follow (for the Content-Security-Policy);
    empty with local storage. Without arguments: of the configured default storage."""
    if options is None:
        if not is_s3():
            return ""
        options = _options()
        public_url = public_endpoint_url()
    endpoint = public_url or options.get("endpoint_url") or ""
    if not endpoint:
        endpoint = f"https://s3.{options.get('region_name') or 'us-east-1'}.amazonaws.com"
    parts = urlsplit(endpoint)
    host = parts.netloc
    if options.get("addressing_style") == "virtual":
        host = f"{options['bucket_name']}.{host}"
    return f"{parts.scheme}://{host}"


def csp_with_store(policy: dict, origin: str) -> dict:
    """``policy`` (django-csp's ``CONTENT_SECURITY_POLICY``) allowing ``origin`` for pictures,
    playback and uploads (img-src, media-src, connect-src)."""
    directives = {name: list(values) for name, values in policy["DIRECTIVES"].items()}
    if origin:
        for name in ("img-src", "media-src", "connect-src"):
            values = directives.setdefault(name, ["'self'"])
            if origin not in values:
                values.append(origin)
    return {**policy, "DIRECTIVES": directives}


# --- serving ------------------------------------------------------------------------------------------
def presigned_get_url(name: str, *, content_type: str | None = None, disposition: str | None = None,
                      seconds: int | None = None) -> str:
    """A URL that lets its holder GET the object for ``seconds`` (default ``JPK_STORAGE_URL_SECONDS``);
    the store answers with ``content_type`` and the ``Content-Disposition`` given (both signed)."""
    params = {"Bucket": bucket_name(), "Key": object_key(name)}
    if content_type:
        params["ResponseContentType"] = content_type
    if disposition:
        params["ResponseContentDisposition"] = disposition
    return public_s3_client().generate_presigned_url("get_object", Params=params,
                                                     ExpiresIn=seconds or url_seconds())


def x_accel_prefix() -> str:
    """``JPK_X_ACCEL_REDIRECT``: the internal nginx location of the media folder ('' = off)."""
    prefix = getattr(settings, "X_ACCEL_REDIRECT", "") or ""
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


def x_accel_path(name: str) -> str:
    return x_accel_prefix() + quote(name.lstrip("/"))


# --- writing ------------------------------------------------------------------------------------------
UPLOAD_PART = 16 * 1024 * 1024


def upload_file(path, name: str) -> None:
    """Upload the local file ``path`` as the stored file ``name`` (multipart above 16 MiB, two parts at
    a time). Given the file's name, boto3 reads each part from the disk while sending it, so memory
    stays small whatever the size (``upload_fileobj`` would hold every part in flight in memory)."""
    from boto3.s3.transfer import TransferConfig

    config = TransferConfig(multipart_threshold=UPLOAD_PART, multipart_chunksize=UPLOAD_PART, max_concurrency=2)
    s3_client().upload_file(str(path), bucket_name(), object_key(name), Config=config)


# --- reading ------------------------------------------------------------------------------------------
class RangeReader(io.RawIOBase):
    """A seekable, read-only binary file over one S3 object, read with HTTP Range GETs.

    Each miss fetches at least ``read_ahead`` bytes from the position asked for and keeps them, so
    sequential reads (hashing, demuxing a video) cost one request per ``read_ahead`` bytes and a
    seek (an MP4's index at the end, a zip's central directory) costs one request, not the whole
    object. Memory: one buffer of at most ``max(read_ahead, largest read)`` bytes. ``requests`` and
    ``fetched`` count what it asked the store for (the tests check that probing never downloads a
    file whole). PyAV, zipfile, pypdf, python-docx/-pptx and hashlib read from it as from a file.
    """

    def __init__(self, key: str, *, client=None, bucket: str | None = None, size: int | None = None,
                 read_ahead: int = READ_AHEAD, name: str = ""):
        super().__init__()
        self.key = key
        self.client = client or s3_client()
        self.bucket = bucket or bucket_name()
        self.read_ahead = max(16 * 1024, read_ahead)
        self.name = name or key
        if size is None:
            try:
                size = self.client.head_object(Bucket=self.bucket, Key=key)["ContentLength"]
            except Exception as exc:
                if _is_not_found(exc):
                    raise FileNotFoundError(key) from exc
                raise
        self.size = int(size)
        self.pos = 0
        self.requests = 0
        self.fetched = 0
        self._buf = b""
        self._buf_start = 0

    # io.RawIOBase
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self.pos + offset
        elif whence == io.SEEK_END:
            pos = self.size + offset
        else:
            raise ValueError(f"invalid whence {whence!r}")
        if pos < 0:
            raise OSError("negative seek position")
        self.pos = pos
        return pos

    def readinto(self, b) -> int:
        view = memoryview(b).cast("B")
        want = min(len(view), self.size - self.pos)
        if want <= 0:
            return 0
        offset = self.pos - self._buf_start
        if not (0 <= offset and offset + want <= len(self._buf)):
            self._fill(self.pos, max(want, self.read_ahead))
            offset = 0
        view[:want] = self._buf[offset:offset + want]
        self.pos += want
        return want

    def readall(self) -> bytes:
        out = bytearray()
        while chunk := self.read(self.read_ahead):
            out += chunk
        return bytes(out)

    def _fill(self, start: int, length: int) -> None:
        end = min(self.size, start + length) - 1
        response = self.client.get_object(Bucket=self.bucket, Key=self.key, Range=f"bytes={start}-{end}")
        body = response["Body"]
        try:
            data = body.read()
        finally:
            body.close()
        self.requests += 1
        self.fetched += len(data)
        self._buf, self._buf_start = data, start

    def close(self) -> None:
        self._buf = b""
        super().close()

    # what PyAV and others may look for
    @property
    def mode(self) -> str:
        return "rb"


def _is_not_found(exc: Exception) -> bool:
    response = getattr(exc, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound")


def open_reader(name: str, *, read_ahead: int | None = None):
    """A seekable binary file over the stored file ``name``: the local file itself, or a
    ``RangeReader`` over the object. Raises ``FileNotFoundError`` when it is not there."""
    if is_s3():
        return RangeReader(object_key(name), read_ahead=read_ahead or READ_AHEAD, name=name)
    return default_storage.open(name, "rb")


def reset_clients() -> None:
    """Forget the cached boto3 clients (after the storage settings changed)."""
    with _clients_lock:
        _clients.clear()
