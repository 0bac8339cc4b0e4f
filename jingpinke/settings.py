"""Django settings. Every knob comes from ``jingpinke.config`` (JPK_* variables)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from jingpinke import config
from jingpinke.storage import csp_with_store, storages_setting, store_origin

BASE_DIR = config.BASE_DIR
DATA_DIR = config.data_dir()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    key = config.get("JPK_SECRET_KEY")
    if key:
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = config.get_bool("JPK_DEBUG")
ALLOWED_HOSTS = config.get_list("JPK_ALLOWED_HOSTS") + ["testserver"]
CSRF_TRUSTED_ORIGINS = config.get_list("JPK_CSRF_TRUSTED_ORIGINS")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = config.get_bool("JPK_SECURE_COOKIES")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# HTTPS: all off by default (`make run` serves plain HTTP on 127.0.0.1); README's production
# configuration turns them on, so `manage.py check --deploy` has no W004/W008.
SECURE_SSL_REDIRECT = config.get_bool("JPK_SSL_REDIRECT")
if config.get_bool("JPK_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = config.get_int("JPK_HSTS_SECONDS")
SECURE_HSTS_INCLUDE_SUBDOMAINS = config.get_bool("JPK_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = config.get_bool("JPK_HSTS_PRELOAD")
# The health check answers the load balancer's plain-HTTP probe without a redirect.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Content-Security-Policy (django-csp): every script, style, font and request from our own origin
# (htmx and tus-js-client are vendored in static/vendor/), no inline script or style, no eval.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "media-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rules.apps.AutodiscoverRulesConfig",
    "axes",
    "workers",  # before django_tasks_db: its db_worker command (heartbeat, recovery) wins
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "csp",
    # ours, in the direction data flows
    "audit",
    "orgs",
    "campaigns",
    "catalog",
    "media",
    "courses",
    "selection",
    "contacts",
    "review",
    "originality",
    "awards",
    "reports",
    "exports",
    "showcase",
    "notifications",
    "api",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "jingpinke.middleware.CSPMiddleware",  # django-csp's, its headers built once
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "jingpinke.middleware.InputGuardMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "orgs.middleware.ForcePasswordChangeMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "jingpinke.urls"
WSGI_APPLICATION = "jingpinke.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.navigation",
                "notifications.context_processors.unread",
            ],
        },
    },
]

# --- database -------------------------------------------------------------
_db_url = config.get("JPK_DATABASE_URL")
# Connections are kept between requests (each thread its own) for a minute: opening one costs a
# few ms (PostgreSQL: a server process; SQLite: the file, its PRAGMAs), and closing the last SQLite
# connection checkpoints the WAL into the database file. Kept SQLite connections are safe: Django
# opens each request in autocommit (no read transaction, hence no old snapshot, is carried over)
# and closes a connection a request left inside a transaction (tests: jingpinke/tests/test_database.py).
SQLITE_DATABASE = {
    "ENGINE": "django.db.backends.sqlite3",
    "NAME": DATA_DIR / "db.sqlite3",
    "CONN_MAX_AGE": 60,
    "OPTIONS": {
        # WAL lets the web and the worker processes read while one writes;
        # IMMEDIATE takes the write lock at BEGIN so that two writers queue
        # instead of failing half-way with "database is locked".
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    },
}
if _db_url:
    DATABASES = {"default": dj_database_url.parse(_db_url, conn_max_age=60, conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend, logging prepared statements with their values (jingpinke/pgbackend)
        DATABASES["default"]["ENGINE"] = "jingpinke.pgbackend"
        # No JIT compilation: the board's picked-entries query (a per-row course lookup the planner
        # over-costs) passed jit_above_cost at 1 M courses and spent ~10-30 ms compiling a 30 ms
        # query in every province or county board and dashboard; a web request's queries are short.
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()
        if config.get_bool("JPK_DB_PREPARE"):
            # The keyed statements of the hot requests are prepared (jingpinke/prepared.py).
            from jingpinke import prepared

            options.setdefault("cursor_factory", prepared.cursor_factory)
            options.setdefault("prepare_threshold", prepared.PREPARE_THRESHOLD)
else:
    DATABASES = {"default": {**SQLITE_DATABASE}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth -----------------------------------------------------------------
AUTH_USER_MODEL = "orgs.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "orgs.backends.UsernameOrMobileBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "login"

AXES_FAILURE_LIMIT = config.get_int("JPK_LOGIN_FAILURE_LIMIT")
AXES_COOLOFF_TIME = timedelta(minutes=config.get_int("JPK_LOGIN_COOLOFF_MINUTES"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
# Failures count per person: any letter case of the username and the mobile share one counter.
AXES_USERNAME_CALLABLE = "orgs.lockout.lockout_key"
AXES_LOCKOUT_CALLABLE = "orgs.lockout.lockout_response"
AXES_VERBOSE = False

API_TOKEN_LIFETIME = timedelta(days=config.get_int("JPK_API_TOKEN_DAYS"))

# --- i18n -----------------------------------------------------------------
LANGUAGE_CODE = config.get("JPK_LANGUAGE")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- files ----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
_media = config.get("JPK_MEDIA_DIR")
MEDIA_ROOT = Path(_media) if _media else DATA_DIR / "media"
MEDIA_URL = "/media/"  # never served publicly; files go through permission-checked views
_uploads = config.get("JPK_UPLOAD_DIR")
UPLOAD_DIR = Path(_uploads) if _uploads else DATA_DIR / "uploads"  # tus partial files (media.storage)
UPLOAD_MAX_BYTES = config.get_int("JPK_UPLOAD_MAX_MB") * 1024 * 1024
UPLOAD_EXPIRE_HOURS = config.get_int("JPK_UPLOAD_EXPIRE_HOURS")
# exports: rows up to which an export streams straight back; older export files are removed.
EXPORT_INLINE_ROWS = config.get_int("JPK_EXPORT_INLINE_ROWS")
EXPORT_KEEP_HOURS = config.get_int("JPK_EXPORT_KEEP_HOURS")
# lists (jingpinke.paging): counts stop at this many rows; beyond it lists page on by cursor.
LIST_COUNT_CAP = config.get_int("JPK_LIST_COUNT_CAP")
STORAGES = {
    "default": storages_setting(),  # local folder, or S3 with JPK_STORAGE_BACKEND=s3 (jingpinke.storage)
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
STORAGE_PUBLIC_URL = config.get("JPK_STORAGE_PUBLIC_URL")
X_ACCEL_REDIRECT = config.get("JPK_X_ACCEL_REDIRECT")
if "OPTIONS" in STORAGES["default"]:  # object store: browsers load, play and upload from its origin
    CONTENT_SECURITY_POLICY = csp_with_store(
        CONTENT_SECURITY_POLICY, store_origin(STORAGES["default"]["OPTIONS"], STORAGE_PUBLIC_URL))
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000

# --- background tasks -------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Worker heartbeats (workers app): a worker silent for TASK_WORKER_DEAD_SECONDS is dead and its
# running tasks go back to the queue.
TASK_HEARTBEAT_SECONDS = config.get_float("JPK_TASK_HEARTBEAT_SECONDS")
TASK_WORKER_DEAD_SECONDS = config.get_float("JPK_TASK_WORKER_DEAD_SECONDS")
# The dashboard's area-wide totals (reports app) are recounted in the background when older than this.
REPORTS_SNAPSHOT_MINUTES = config.get_float("JPK_REPORTS_SNAPSHOT_MINUTES")
# Background work is not what a user waits for: a worker lowers its own CPU priority (workers app).
TASK_NICE = config.get_int("JPK_TASK_NICE")
if not 0 < TASK_HEARTBEAT_SECONDS * 2 < TASK_WORKER_DEAD_SECONDS:
    raise ImproperlyConfigured("JPK_TASK_WORKER_DEAD_SECONDS must be more than twice JPK_TASK_HEARTBEAT_SECONDS (> 0).")
# originality: check every file once its compliance check is done (background task).
ORIGINALITY_ON_PROBE = True

# --- e-mail -----------------------------------------------------------------


def _email_settings(url: str) -> dict:
    parts = urlsplit(url)
    if parts.scheme in ("", "console"):
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parts.scheme in ("smtp", "smtp+tls", "smtp+ssl"):
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": parts.hostname or "localhost",
            "EMAIL_PORT": parts.port or 25,
            "EMAIL_HOST_USER": unquote(parts.username or ""),
            "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
            "EMAIL_USE_TLS": parts.scheme == "smtp+tls",
            "EMAIL_USE_SSL": parts.scheme == "smtp+ssl",
        }
    raise ValueError(f"JPK_EMAIL_URL: unsupported scheme {parts.scheme!r}")


globals().update(_email_settings(config.get("JPK_EMAIL_URL")))
DEFAULT_FROM_EMAIL = config.get("JPK_DEFAULT_FROM_EMAIL")

# --- logging ----------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        name: {"handlers": ["console"], "level": config.get("JPK_LOG_LEVEL"), "propagate": False}
        for name in ("jingpinke", "orgs", "campaigns", "catalog", "audit", "api", "portal", "media", "notifications")
    },
}
