"""A loopback S3 server for tests and benches: moto in server mode, in its own process.

``LoopbackS3.start()`` runs ``python -m moto.server`` on 127.0.0.1 at a free port, waits until it
answers, creates the bucket and returns the handle; ``options()`` are the ``S3Storage`` options
that point at it (``jingpinke.storage.s3_options``); ``stop()`` ends the process. The test run
starts one per session when ``JPK_TEST_STORAGE=s3`` (``conftest.py``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field

import pytest

ACCESS_KEY = "jpk-test"
SECRET_KEY = "jpk-test-secret"
REGION = "us-east-1"


def s3_test_run() -> bool:
    """Does this test run use the loopback S3 server (``JPK_TEST_STORAGE=s3``)?"""
    return os.environ.get("JPK_TEST_STORAGE", "local").strip().lower() == "s3"


def only_local_storage(reason: str):
    """Marks a test that holds only with the local media folder, saying why: skipped on S3."""
    return pytest.mark.skipif(s3_test_run(), reason=f"{reason}; this run stores files in S3 (JPK_TEST_STORAGE=s3)")


# Marks a test that checks the local media folder itself (paths, moves on disk).
local_storage_only = only_local_storage("checks the local media folder itself")
# Marks a test of the app's own byte serving (ranges, If-Range, blocks): on S3 the store serves them.
app_streaming_only = only_local_storage("checks how the app itself streams a file; with object storage the store "
                                        "answers (ranges included) after the app's redirect")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LoopbackS3:
    port: int
    bucket: str
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(cls, bucket: str = "jpk-test", *, timeout: float = 60.0) -> LoopbackS3:
        port = free_port()
        env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
               "AWS_DEFAULT_REGION": REGION}
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
            start_new_session=True)
        server = cls(port=port, bucket=bucket, process=process)
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"moto server exited with {process.returncode} before answering")
            try:
                urllib.request.urlopen(f"{server.endpoint_url}/moto-api/", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    server.stop()
                    raise RuntimeError(f"moto server did not answer on port {port} within {timeout:.0f} s") from None
                time.sleep(0.1)
        server.client().create_bucket(Bucket=bucket)
        return server

    def options(self, **overrides) -> dict:
        from jingpinke.storage import s3_options

        return s3_options(**{"endpoint_url": self.endpoint_url, "bucket": self.bucket, "region": REGION,
                             "access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "addressing_style": "path",
                             **overrides})

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint_url, region_name=REGION, aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY, config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                self.process.kill()
                self.process.wait()
        self.process = None


class StoreAnswer:
    """The object store's answer to a presigned URL, shaped like a Django test response."""

    streaming = False

    def __init__(self, status_code: int, headers, content: bytes, url: str):
        self.status_code = status_code
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.content = content
        self.url = url

    def __getitem__(self, name: str) -> str:
        return self.headers[name.lower()]

    def has_header(self, name: str) -> bool:
        return name.lower() in self.headers

    def get(self, name: str, default=None):
        return self.headers.get(name.lower(), default)

    def __repr__(self) -> str:  # pragma: no cover
        return f"<StoreAnswer {self.status_code} {self.url[:80]}>"


PASSED_ON = ("Range", "If-Range", "If-None-Match", "If-Modified-Since")


def served(response, headers: dict | None = None):
    """What the browser ends up with: ``response`` itself, or, when it is a redirect to the object
    store (S3 mode), the store's answer to the same request (its Range/If-Range headers passed on:
    ``headers``, else those of the test client's request)."""
    import urllib.error
    import urllib.request

    from jingpinke import storage

    location = response.get("Location", "") if response.status_code in (301, 302, 303, 307) else ""
    origin = storage.store_origin()
    if not origin or not location.startswith(origin + "/"):
        return response
    if headers is None:
        request = getattr(response, "wsgi_request", None)
        headers = {name: request.headers[name] for name in PASSED_ON if request is not None and name in request.headers}
    try:
        with urllib.request.urlopen(urllib.request.Request(location, headers=headers), timeout=30) as answer:
            return StoreAnswer(answer.status, answer.headers, answer.read(), location)
    except urllib.error.HTTPError as exc:
        return StoreAnswer(exc.code, exc.headers, exc.read(), location)


def body_of(response) -> bytes:
    """The bytes of a test response, streamed or not (an object store's answer included)."""
    return b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
