"""The storage class of the scaled mode: django-storages' ``S3Storage`` with streamed reading.

Kept apart from ``jingpinke.storage`` so that the settings do not import boto3 in the embedded
mode. ``open_stream(name)`` is what readers that go through a file once, front to back, use (the
resource package ZIP, ``selection.archive``): one GET whose body is read as it arrives, where
``S3Storage.open()`` would first download the whole object into a temporary file.
"""

from __future__ import annotations

from storages.backends.s3 import S3Storage as BaseS3Storage


class S3Storage(BaseS3Storage):
    def open_stream(self, name: str):
        """A read-only file-like object (``read(n)``, ``close()``) over the object's bytes, streamed."""
        from jingpinke.storage import _is_not_found

        try:
            response = self.connection.meta.client.get_object(Bucket=self.bucket_name, Key=self._normalize_name(name))
        except Exception as exc:
            if _is_not_found(exc):
                raise FileNotFoundError(name) from exc
            raise
        return response["Body"]
