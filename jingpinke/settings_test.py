"""Settings for the test suite: the real settings with fast, isolated storage."""

import tempfile
from pathlib import Path

from jingpinke.settings import *  # noqa: F401,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="jpk-test-media-"))
# Tasks run inline in tests unless a test asks for the database backend.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STATIC_ROOT = Path(tempfile.mkdtemp(prefix="jpk-test-static-"))
WHITENOISE_AUTOREFRESH = True
