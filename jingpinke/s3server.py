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


def test_storage_is_s3() -> bool:
    """Does this test run use the loopback S3 server (``JPK_TEST_STORAGE=s3``)?"""
    return os.environ.get("JPK_TEST_STORAGE", "local").strip().lower() == "s3"


# Marks a test that checks the local media folder itself (paths, moves on disk): skipped on S3.
local_storage_only = pytest.mark.skipif(test_storage_is_s3(), reason="checks the local media folder itself; "
                                        "this run stores files in S3 (JPK_TEST_STORAGE=s3)")


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
