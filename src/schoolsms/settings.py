"""Django settings: every value comes from the environment, with defaults that run on a laptop."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from schoolsms.env import env_bool, env_float, env_int, env_list, env_str

PACKAGE_DIR = Path(__file__).resolve().parent
# Nothing is created here: `schoolsms migrate`, `serve` and `demo` create the folder and the
# key file (schoolsms.localfiles); every other command refuses to start without a database.
VAR_DIR = Path(env_str("SCHOOLSMS_VAR_DIR", str(Path.cwd() / "var"))).resolve()
SECRET_KEY_FILE = VAR_DIR / "secret_key"


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        return key
    # Empty when there is no file yet: Django then refuses whatever needs the key, by name.
    return SECRET_KEY_FILE.read_text().strip() if SECRET_KEY_FILE.exists() else ""


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
SCHOOLSMS_PUBLIC_URL = env_str("SCHOOLSMS_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = [SCHOOLSMS_PUBLIC_URL]
# Served over https (behind a TLS proxy that sets X-Forwarded-Proto, see deploy/): secure
# cookies, HSTS and a redirect to https, except for the probes of /healthz and /metrics.
if SCHOOLSMS_PUBLIC_URL.startswith("https://"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SCHOOLSMS_HSTS_SECONDS", 31_536_000, minimum=0)
    # Only names below this host (sms.district.example.org): safe to include.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # The preload list is a decision for the owner of the apex domain, not for this app.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]

# ResponseHeadersMiddleware also sends HSTS on answers the proxy did not mark as https.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# Content-Security-Policy on every response (django-csp): scripts only from our own static
# files, never inline; no plugins, frames or foreign form targets. Inline style attributes stay
# allowed (bar widths computed on the server); they cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [SELF],  # the reminder email preview is framed by its own page
    }
}

# django-ninja's Swagger UI page and files, by their folder (api.OfflineSwagger renders them, so
# the docs work offline). Not an installed app: listing "ninja" imports the whole package,
# pydantic with it, in every command and worker as it starts (a tenth of a second each).
_ninja_spec = importlib.util.find_spec("ninja")
if _ninja_spec is None or _ninja_spec.origin is None:
    raise ImproperlyConfigured("django-ninja is not installed")
NINJA_DIR = Path(_ninja_spec.origin).parent

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "csp",
    "schoolsms.core",
    "schoolsms.operations",
    "schoolsms.accounts",
    "schoolsms.consent",
    "schoolsms.contacts",
    "schoolsms.messaging",
    "schoolsms.carriers",
    "schoolsms.carriers.simulator",
    "schoolsms.carriers.smpp",
    "schoolsms.carriers.twilio",
    "schoolsms.reports",
    "schoolsms.reminders",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "schoolsms.core.middleware.ResponseHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    "schoolsms.core.middleware.ApiUploadLimitMiddleware",
    "schoolsms.core.middleware.InputGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "schoolsms.core.metrics.webhook_counting",
]

ROOT_URLCONF = "schoolsms.urls"
WSGI_APPLICATION = "schoolsms.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates", NINJA_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "builtins": ["schoolsms.core.templatetags.display"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "schoolsms.accounts.context_processors.organization",
            ],
        },
    },
]

# Database: SQLite under var/ unless DATABASE_URL says otherwise.
_SQLITE_OPTIONS = {
    "init_command": (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
        "PRAGMA cache_size=-64000; PRAGMA temp_store=MEMORY;"
    ),
    "transaction_mode": "IMMEDIATE",
    "timeout": 30,
}
_db = dj_database_url.parse(
    env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'schoolsms.sqlite3'}"), conn_max_age=60
)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["OPTIONS"] = {**_SQLITE_OPTIONS, **_db.get("OPTIONS", {})}
    # Connections are kept between requests (conn_max_age above), as with PostgreSQL: opening
    # one runs the PRAGMAs above, and closing the last one checkpoints and removes the WAL,
    # which the next write then syncs afresh; per request, that made signed Twilio status
    # callbacks about three times slower (bench_twilio_ingest).
    # Tests use a file (not :memory:) so they can start real worker and CLI processes on the
    # same data; conftest.py names it, unique per run.
else:
    _db["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lock-out after repeated failed logins (django-axes).
AXES_FAILURE_LIMIT = env_int("SCHOOLSMS_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_float("SCHOOLSMS_LOGIN_COOLOFF_HOURS", 1.0, minimum=0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# The shell's own files (Pico, htmx, Chart.js, app.css) live outside any app's static/ folder.
STATICFILES_DIRS = [PACKAGE_DIR / "static", NINJA_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Email: SMTP when EMAIL_HOST is set, else files under var/outbox/ so nothing leaves the laptop.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "SchoolSMS <no-reply@localhost>")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "outbox")

# Background tasks: the database backend (no broker; the default), or RQ on Redis.
_TASK_BACKENDS = {"database": "django_tasks_db.DatabaseBackend", "rq": "django_tasks_rq.RQBackend"}
SCHOOLSMS_TASK_BACKEND = env_str("SCHOOLSMS_TASK_BACKEND", "database")
if SCHOOLSMS_TASK_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"SCHOOLSMS_TASK_BACKEND={SCHOOLSMS_TASK_BACKEND!r}: use one of {', '.join(_TASK_BACKENDS)}"
    )
_QUEUES = ["default", "send", "callbacks", "email", "imports"]
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[SCHOOLSMS_TASK_BACKEND], "QUEUES": _QUEUES}}
SCHOOLSMS_REDIS_URL = env_str("SCHOOLSMS_REDIS_URL", "redis://127.0.0.1:6379/0")
if SCHOOLSMS_TASK_BACKEND == "rq":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    RQ_QUEUES = {name: {"URL": SCHOOLSMS_REDIS_URL, "DEFAULT_TIMEOUT": 3600} for name in _QUEUES}

# Delivery pipeline.
SCHOOLSMS_RETRY_BASE_DELAY = env_float("SCHOOLSMS_RETRY_BASE_DELAY", 30.0, minimum=0)
SCHOOLSMS_RETRY_LIMIT = env_int("SCHOOLSMS_RETRY_LIMIT", 4, minimum=1)
SCHOOLSMS_SEND_BATCH_SIZE = env_int("SCHOOLSMS_SEND_BATCH_SIZE", 500, minimum=1)
# Send tasks started per broadcast, so that several workers can share one.
SCHOOLSMS_SEND_TASKS = env_int("SCHOOLSMS_SEND_TASKS", 4, minimum=1)
# Audience contacts per fan-out chunk (each chunk's rows are committed, and sending starts after
# the first, a smaller one: at most 1,000).
SCHOOLSMS_FAN_OUT_CHUNK = env_int("SCHOOLSMS_FAN_OUT_CHUNK", 50_000, minimum=1)
# Seconds a row may stay in Sending before the carrier is asked what became of it.
SCHOOLSMS_SEND_LEASE = env_float("SCHOOLSMS_SEND_LEASE", 120.0, minimum=0)
SCHOOLSMS_SIMULATOR_CALLBACK_DELAY = env_float("SCHOOLSMS_SIMULATOR_CALLBACK_DELAY", 2.0, minimum=0)
# Seconds each call to the simulator takes, like a slow carrier's round trip (benchmarks).
SCHOOLSMS_SIMULATOR_LATENCY = env_float("SCHOOLSMS_SIMULATOR_LATENCY", 0.0, minimum=0)
# Unset: the shipped demo mix of failures; set empty: every number is delivered.
SCHOOLSMS_SIMULATOR_SCENARIO = env_str(
    "SCHOOLSMS_SIMULATOR_SCENARIO",
    str(PACKAGE_DIR / "carriers" / "simulator" / "demo_scenario.csv"),
)

# The Twilio REST API (or a Twilio-compatible provider's) the twilio gateway sends through.
SCHOOLSMS_TWILIO_API_URL = env_str("SCHOOLSMS_TWILIO_API_URL", "https://api.twilio.com").rstrip("/")

# Carrier secrets at rest (see schoolsms/sealing.py): Fernet keys, comma-separated, newest
# first; empty: derived from SECRET_KEY.
SCHOOLSMS_SECRETS_KEY = env_str("SCHOOLSMS_SECRETS_KEY")

# /metrics: when set, scrapers must send `Authorization: Bearer <token>`.
SCHOOLSMS_METRICS_TOKEN = env_str("SCHOOLSMS_METRICS_TOKEN")
# Message rows of broadcasts completed more than this many days ago are archived and pruned
# daily by the worker (see `schoolsms prune`); 0: never.
SCHOOLSMS_RETENTION_DAYS = env_int("SCHOOLSMS_RETENTION_DAYS", 0, minimum=0)
SCHOOLSMS_ARCHIVE_DIR = env_str("SCHOOLSMS_ARCHIVE_DIR", str(VAR_DIR / "archive"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # twilio.http_client logs every API request's headers at INFO.
    "loggers": {"axes": {"level": "WARNING"}, "twilio.http_client": {"level": "WARNING"}},
}

# Imports: uploads larger than this are refused before they are read; dropped roster bundles
# are taken once unchanged for this many seconds (an SFTP upload may still be writing).
SCHOOLSMS_MAX_UPLOAD_MB = env_int("SCHOOLSMS_MAX_UPLOAD_MB", 100, minimum=1)
SCHOOLSMS_SYNC_SETTLE_SECONDS = env_float("SCHOOLSMS_SYNC_SETTLE_SECONDS", 30.0, minimum=0)
IMPORTS_DIR = VAR_DIR / "imports"
# Drop folders set on the web page must be inside this one (the command line may name any).
SCHOOLSMS_DROP_ROOT = Path(env_str("SCHOOLSMS_DROP_ROOT", str(VAR_DIR / "dropbox"))).resolve()
