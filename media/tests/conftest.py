"""Fixtures of the media tests: the loopback S3 server (direct uploads) and the courses a direct
upload is started for."""

from courses.tests.conftest import campaign, course, node  # noqa: F401
from media.tests.s3_helpers import loopback_s3, s3  # noqa: F401
from media.tests.tus_helpers import probes  # noqa: F401
