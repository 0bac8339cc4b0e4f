"""A loopback S3 server (moto in server mode) for the direct-upload tests, whatever storage the
rest of the run uses: ``s3`` points the default storage at a fresh bucket on it."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest

ACCESS_KEY, SECRET_KEY, REGION = "jpk-test", "jpk-test-secret", "us-east-1"


@pytest.fixture(scope="session")
def loopback_s3():
    """The endpoint URL of a moto S3 server on 127.0.0.1 at a free port (one per test session)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(loopback_s3, settings):
    """The default storage is S3 on the loopback server, in a bucket of this test's own (with a
    prefix, as a shared bucket would have; jingpinke.storage's options); ``client`` is a boto3 client
    for checks. Its own server whatever JPK_TEST_STORAGE says, so these tests run in both modes."""
    import boto3

    bucket = f"jpk-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=loopback_s3, aws_access_key_id=ACCESS_KEY,
                          aws_secret_access_key=SECRET_KEY, region_name=REGION)
    client.create_bucket(Bucket=bucket)
    from jingpinke import storage

    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": storage.S3_BACKEND, "OPTIONS": storage.s3_options(
        endpoint_url=loopback_s3, bucket=bucket, region=REGION, access_key=ACCESS_KEY, secret_key=SECRET_KEY,
        prefix="jpk")}}
    settings.STORAGE_PUBLIC_URL = ""
    # As in production: the pages may connect to the store (jingpinke.settings does this in S3 mode).
    settings.CONTENT_SECURITY_POLICY = storage.csp_with_store(settings.CONTENT_SECURITY_POLICY, loopback_s3)
    storage.reset_clients()
    yield SimpleNamespace(client=client, bucket=bucket, endpoint=loopback_s3, prefix="jpk/")
    storage.reset_clients()
