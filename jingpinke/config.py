"""Every configuration option of jingpinke, in one place.

Each option is read from one environment variable. README.md has a table of
them; ``jingpinke/tests/test_config.py`` checks that the table and this list
agree, so a new option cannot go undocumented.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Option:
    env: str
    default: str
    help: str


OPTIONS: tuple[Option, ...] = (
    Option("JPK_DATA_DIR", "var", "Folder for the embedded database, uploaded files and the generated secret key (relative to the checkout)."),
    Option("JPK_DATABASE_URL", "", "Database URL, e.g. postgres://user@host:5432/jingpinke. Empty: SQLite (WAL) at $JPK_DATA_DIR/db.sqlite3."),
    Option("JPK_DB_PREPARE", "1", "PostgreSQL: 1 prepares the keyed statements of the hot requests (parsed and planned once per connection); 0 behind a transaction-mode pooler that cannot keep prepared statements (PgBouncer before 1.21)."),
    Option("JPK_SECRET_KEY", "", "Django secret key. Empty: generated once into $JPK_DATA_DIR/secret_key."),
    Option("JPK_DEBUG", "0", "1 turns on Django's debug pages. Never in production."),
    Option("JPK_HOST", "127.0.0.1", "Address `make run` binds to."),
    Option("JPK_PORT", "8000", "Port `make run` serves on."),
    Option("JPK_WEB_WORKERS", "2", "Number of gunicorn worker processes started by `make run`."),
    Option("JPK_TASK_WORKERS", "1", "Number of background task worker processes started by `make run`."),
    Option("JPK_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]", "Comma-separated host names the site answers to."),
    Option("JPK_CSRF_TRUSTED_ORIGINS", "", "Comma-separated origins (https://jpk.example.cn) allowed to post forms behind a proxy."),
    Option("JPK_SECURE_COOKIES", "0", "1 marks session and CSRF cookies Secure (serve over HTTPS)."),
    Option("JPK_SSL_REDIRECT", "0", "1 redirects every plain-HTTP request to HTTPS (behind a proxy, with JPK_PROXY_SSL_HEADER). Off for `make run` on plain HTTP."),
    Option("JPK_PROXY_SSL_HEADER", "0", "1 trusts the proxy's X-Forwarded-Proto: https header as a secure request (set it only behind nginx that sets that header)."),
    Option("JPK_HSTS_SECONDS", "0", "Strict-Transport-Security max-age in seconds (production: 31536000). 0 sends no HSTS header; browsers then remember nothing."),
    Option("JPK_HSTS_INCLUDE_SUBDOMAINS", "0", "1 adds includeSubDomains to the HSTS header (every subdomain must serve HTTPS too)."),
    Option("JPK_HSTS_PRELOAD", "0", "1 adds preload to the HSTS header (for the browsers' preload list; hard to undo)."),
    Option("JPK_MEDIA_DIR", "", "Folder for uploaded files. Empty: $JPK_DATA_DIR/media."),
    Option("JPK_UPLOAD_DIR", "", "Folder for uploads in progress (tus partial files; same disk as JPK_MEDIA_DIR so finished files are moved, not copied). Empty: $JPK_DATA_DIR/uploads."),
    Option("JPK_UPLOAD_MAX_MB", "1100", "Largest file one upload may have, in MB (tus Tus-Max-Size)."),
    Option("JPK_UPLOAD_EXPIRE_HOURS", "24", "Unfinished uploads idle longer than this are removed by the periodic cleanup."),
    Option("JPK_EMAIL_URL", "console:", "Mail transport: console: (print), or smtp://user:password@host:port (smtp+tls:// for STARTTLS)."),
    Option("JPK_DEFAULT_FROM_EMAIL", "jingpinke@localhost", "Sender address of notification e-mails."),
    Option("JPK_SITE_URL", "", "Public address used in links of notification e-mails, e.g. https://jpk.example.cn. Empty: the first of JPK_CSRF_TRUSTED_ORIGINS, else http://JPK_HOST:JPK_PORT."),
    Option("JPK_CJK_FONT", "", "TrueType/TrueType-collection font file embedded in certificate PDFs. Empty: Debian's fonts-wqy-microhei (installed by make run)."),
    Option("JPK_LOGIN_FAILURE_LIMIT", "5", "Failed logins after which an account/address pair is locked."),
    Option("JPK_LOGIN_COOLOFF_MINUTES", "30", "Minutes a lockout lasts."),
    Option("JPK_API_TOKEN_DAYS", "365", "Days an API token stays valid after it is created."),
    Option("JPK_LANGUAGE", "zh-hans", "Default interface language (zh-hans or en)."),
    Option("JPK_LOG_LEVEL", "INFO", "Log level of the application loggers."),
    # --- s3store ---
    Option("JPK_STORAGE_BACKEND", "local", "Where stored files live: local (the folder JPK_MEDIA_DIR) or s3 (an S3-compatible object store: MinIO, Ceph RGW, Aliyun OSS, Tencent COS)."),
    Option("JPK_STORAGE_ENDPOINT_URL", "", "S3 endpoint the app talks to, e.g. http://127.0.0.1:9000 (MinIO) or https://oss-cn-guangzhou.aliyuncs.com. Empty: AWS."),
    Option("JPK_STORAGE_PUBLIC_URL", "", "S3 endpoint as browsers reach it, when it differs from JPK_STORAGE_ENDPOINT_URL (download and upload URLs are signed for it). Empty: the same."),
    Option("JPK_STORAGE_BUCKET", "", "Bucket of the stored files (private; created beforehand). Required with JPK_STORAGE_BACKEND=s3."),
    Option("JPK_STORAGE_REGION", "us-east-1", "Region of the bucket (MinIO/Ceph: us-east-1; OSS: oss-cn-guangzhou; COS: ap-guangzhou)."),
    Option("JPK_STORAGE_ACCESS_KEY", "", "Access key id of the store's account. Empty: boto3's usual sources (AWS_ACCESS_KEY_ID, instance role)."),
    Option("JPK_STORAGE_SECRET_KEY", "", "Secret key of the store's account."),
    Option("JPK_STORAGE_ADDRESSING_STYLE", "path", "path (bucket in the path: MinIO, Ceph RGW) or virtual (bucket in the host name: Aliyun OSS, Tencent COS)."),
    Option("JPK_STORAGE_SIGNATURE_VERSION", "s3v4", "Request signature: s3v4 (all current stores) or s3 (old V2, some older Ceph/OSS setups)."),
    Option("JPK_STORAGE_PREFIX", "", "Key prefix inside the bucket (e.g. jingpinke/) when the bucket is shared. Empty: none."),
    Option("JPK_STORAGE_URL_SECONDS", "300", "Lifetime of the presigned download/playback URLs, in seconds (access is checked on every request to the app, which then redirects)."),
    Option("JPK_STORAGE_VERIFY_TLS", "1", "0 skips TLS certificate verification of the store (a test store with a self-signed certificate only)."),
    Option("JPK_X_ACCEL_REDIRECT", "", "Local storage behind nginx: the internal location of JPK_MEDIA_DIR (e.g. /internal-media/); files are then sent by nginx (X-Accel-Redirect) after the app's access check. Empty: the app streams them."),
    # --- multinode ---
    Option("JPK_TASK_HEARTBEAT_SECONDS", "10", "Every how many seconds a task worker (manage.py db_worker) records that it lives."),
    Option("JPK_TASK_NICE", "10", "Niceness a task worker (manage.py db_worker) adds to itself at start: on a machine that also serves pages, file checks and exports yield the CPU to requests (0: none)."),
    Option("JPK_TASK_WORKER_DEAD_SECONDS", "60", "A task worker silent this long is dead: the tasks it was running go back to the queue (more than twice the heartbeat)."),
    # --- export ---
    Option("JPK_EXPORT_INLINE_ROWS", "5000", "Course exports of at most this many rows stream straight back; larger ones run as a background job with a progress page."),
    Option("JPK_EXPORT_KEEP_HOURS", "48", "Files of background exports older than this are removed (with their job) by the periodic cleanup."),
    # --- reports ---
    Option("JPK_REPORTS_SNAPSHOT_MINUTES", "10", "The dashboard's area-wide totals are a snapshot: a page opened when it is older than this many minutes has it recounted in the background (the page's 刷新 button recounts at once)."),
    # --- lists ---
    Option("JPK_LIST_COUNT_CAP", "10000", "Lists count at most this many rows; beyond it a list says “超过 10,000 条” and pages on with 下一页 (keyset cursor) instead of page numbers."),
)

_BY_ENV = {o.env: o for o in OPTIONS}


def get(env: str) -> str:
    """The value of one option: its environment variable, else its default."""
    option = _BY_ENV[env]
    return os.environ.get(env, option.default)


def get_bool(env: str) -> bool:
    return get(env).strip().lower() in {"1", "true", "yes", "on"}


def get_int(env: str) -> int:
    return int(get(env))


def get_float(env: str) -> float:
    return float(get(env))


def get_list(env: str) -> list[str]:
    return [part.strip() for part in get(env).split(",") if part.strip()]


def data_dir() -> Path:
    path = Path(get("JPK_DATA_DIR"))
    if not path.is_absolute():
        path = BASE_DIR / path
    return path
