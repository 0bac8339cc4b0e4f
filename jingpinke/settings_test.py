"""Settings for the test suite: the real settings with fast, isolated storage."""

import atexit
import shutil
import tempfile
from pathlib import Path

from jingpinke.settings import *  # noqa: F401,F403

_TMP = Path(tempfile.mkdtemp(prefix="jpk-test-"))
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = _TMP / "media"
UPLOAD_DIR = _TMP / "uploads"
STATIC_ROOT = _TMP / "static"
STATIC_ROOT.mkdir()
WHITENOISE_AUTOREFRESH = True
# Tasks run inline in tests unless a test asks for the database backend.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# The originality check signs every probed file; inline (ImmediateBackend) that would decode the demo's
# full-length videos inside any test that loads the demo on a transactional database. Its own tests turn
# it on (originality/tests).
ORIGINALITY_ON_PROBE = False
