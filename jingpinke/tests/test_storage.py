"""The storage settings built from the JPK_STORAGE_* options (jingpinke.storage)."""

import pytest

from jingpinke import storage


def test_local_storage_is_the_default(monkeypatch):
    monkeypatch.delenv("JPK_STORAGE_BACKEND", raising=False)
    assert storage.storages_setting() == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def test_s3_options_come_from_the_environment(monkeypatch):
    for name, value in {
        "JPK_STORAGE_BACKEND": "s3", "JPK_STORAGE_ENDPOINT_URL": "https://oss-cn-guangzhou.aliyuncs.com",
        "JPK_STORAGE_BUCKET": "jpk-media", "JPK_STORAGE_REGION": "oss-cn-guangzhou", "JPK_STORAGE_ACCESS_KEY": "AK",
        "JPK_STORAGE_SECRET_KEY": "SK", "JPK_STORAGE_ADDRESSING_STYLE": "virtual", "JPK_STORAGE_PREFIX": "/jingpinke/",
        "JPK_STORAGE_URL_SECONDS": "120", "JPK_STORAGE_VERIFY_TLS": "1",
    }.items():
        monkeypatch.setenv(name, value)
    assert storage.storages_setting() == {"BACKEND": "jingpinke.s3storage.S3Storage", "OPTIONS": {
        "endpoint_url": "https://oss-cn-guangzhou.aliyuncs.com", "bucket_name": "jpk-media",
        "region_name": "oss-cn-guangzhou", "access_key": "AK", "secret_key": "SK", "addressing_style": "virtual",
        "signature_version": "s3v4", "location": "jingpinke", "querystring_expire": 120, "verify": None,
        "default_acl": None, "file_overwrite": False}}


def test_bad_storage_settings_say_what_to_fix(monkeypatch):
    monkeypatch.setenv("JPK_STORAGE_BACKEND", "s3")
    monkeypatch.delenv("JPK_STORAGE_BUCKET", raising=False)
    with pytest.raises(ValueError, match="JPK_STORAGE_BUCKET"):
        storage.storages_setting()
    monkeypatch.setenv("JPK_STORAGE_BACKEND", "ftp")
    with pytest.raises(ValueError, match="JPK_STORAGE_BACKEND"):
        storage.storages_setting()


def test_keys_get_the_prefix_and_x_accel_paths_are_quoted(settings):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": storage.S3_BACKEND, "OPTIONS": storage.s3_options(endpoint_url="http://s3", bucket="b", prefix="jpk/")}}
    assert storage.object_key("files/ab/cd") == "jpk/files/ab/cd"
    settings.X_ACCEL_REDIRECT = "/internal-media"
    assert storage.x_accel_path("demo/秋天 1.pdf") == "/internal-media/demo/%E7%A7%8B%E5%A4%A9%201.pdf"
