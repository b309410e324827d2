"""Settings for the video-petition scheduler, read from the environment."""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY") or (
    # A fixed key is only acceptable on a developer's machine with DEBUG on.
    "dev-only-insecure-key-change-me-for-any-real-deployment-0123456789"
    if DEBUG or os.environ.get("DJANGO_ALLOW_DEV_SECRET") == "1"
    else ""
)
if not SECRET_KEY:
    raise RuntimeError("SECRET_KEY must be set (or DEBUG=1 for a local demo).")

# Separate key for the resident ID number field, so rotating SECRET_KEY does not lose data.
FIELD_ENCRYPTION_KEY = os.environ.get("FIELD_ENCRYPTION_KEY", SECRET_KEY)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "django_tasks_db",
    "departments",
    "scheduler",
    "appointments",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "scheduler.middleware.KioskDefaultLanguage",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "scheduler.middleware.ApiJsonErrors",
]

ROOT_URLCONF = "scheduler.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "scheduler.wsgi.application"

DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN
        # so concurrent bookings queue on busy_timeout instead of failing on lock upgrade.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

TASKS = {"default": {"BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend")}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"

LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# Each part of the product keeps its own catalogue (locale/<part>/), so parts can be worked on apart.
LOCALE_PATHS = sorted(p for p in (BASE_DIR / "locale").glob("*") if p.is_dir())
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve files straight from static/ too, so a fresh checkout works before collectstatic.
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("TRUST_PROXY", False) else None
USE_X_FORWARDED_HOST = env_bool("TRUST_PROXY", False)

# Scheduling policy.
# Whether consultation hours run on make-up working days (调休上班日), and which weekday's hours they follow.
CONSULT_ON_MAKEUP_WORKDAYS = env_bool("CONSULT_ON_MAKEUP_WORKDAYS", True)
MAKEUP_WORKDAY_FOLLOWS_WEEKDAY = int(os.environ.get("MAKEUP_WORKDAY_FOLLOWS_WEEKDAY", "0"))
# A kiosk that enters this many query codes that match nothing is refused for the window (guessing).
# Statutory deadlines (信访工作条例) in calendar days, as the regulations count them, unless set to working days.
PETITION_DEADLINES_IN_WORKING_DAYS = env_bool("PETITION_DEADLINES_IN_WORKING_DAYS", False)
LOOKUP_MISSES_LIMIT = int(os.environ.get("LOOKUP_MISSES_LIMIT", "10"))
LOOKUP_MISSES_WINDOW_SECONDS = int(os.environ.get("LOOKUP_MISSES_WINDOW_SECONDS", "900"))
# API rate limits (requests/period); counted in the cache, so set REDIS_URL when several processes serve.
API_THROTTLE_ANONYMOUS = os.environ.get("API_THROTTLE_ANONYMOUS", "120/m")
API_THROTTLE_CALLER = os.environ.get("API_THROTTLE_CALLER", "300/m")
# Client addresses for throttling come from REMOTE_ADDR, or from X-Forwarded-For only behind a trusted proxy.
NINJA_NUM_PROXIES = 1 if env_bool("TRUST_PROXY", False) else 0
# Years whose holiday schedule the State Council has announced; later ones are provisional.
HOLIDAY_CONFIRMED_YEARS = [int(y) for y in env_list("HOLIDAY_CONFIRMED_YEARS", "2024,2025,2026")]

# Community kiosk: after this many seconds without a touch it warns, and after the warning it starts over.
KIOSK_IDLE_SECONDS = int(os.environ.get("KIOSK_IDLE_SECONDS", "90"))
KIOSK_IDLE_WARNING_SECONDS = int(os.environ.get("KIOSK_IDLE_WARNING_SECONDS", "20"))
KIOSK_KEY_COOKIE = "kiosk_key"

# Every handler masks ID numbers and mobiles. Django's own handlers (runserver's request lines, its console, the
# error mails) are defined again here with the filter: left to Django's defaults they would stay unfiltered.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_personal_data": {"()": "scheduler.log_filters.RedactPersonalData"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "django.server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"}
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_personal_data"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["redact_personal_data"],
        },
        "mail_admins": {
            "level": "ERROR",
            "class": "django.utils.log.AdminEmailHandler",
            "filters": ["require_debug_false", "redact_personal_data"],
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": ["mail_admins"], "level": "INFO"},  # and to the console through the root
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
    },
}
# Error reports (DEBUG pages, mails to ADMINS) mask the same, and fields named like a resident's name or numbers.
DEFAULT_EXCEPTION_REPORTER = "scheduler.error_reports.PersonalDataReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "scheduler.error_reports.PersonalDataReporterFilter"

# `manage.py backup` writes here unless given a path. Backups hold personal data unencrypted: keep this directory
# on an encrypted disk readable only by the service account (files are created 0600).
BACKUP_DIR = Path(os.environ.get("BACKUP_DIR", BASE_DIR / "backups"))

PETITION_OFFICE_NAME = _("District Petition Bureau")

# Video sessions. Twilio Programmable Video when an account is configured, otherwise a local stand-in
# that needs no account (the demo works offline). Rooms are created server-side; tokens are minted here.
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")  # also what Twilio signs its callbacks with
TWILIO_API_KEY_SID = os.environ.get("TWILIO_API_KEY_SID", "")
TWILIO_API_KEY_SECRET = os.environ.get("TWILIO_API_KEY_SECRET", "")
_TWILIO_READY = all((TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_API_KEY_SID, TWILIO_API_KEY_SECRET))
VIDEO_BACKEND = os.environ.get("VIDEO_BACKEND") or (
    "appointments.video.twilio.TwilioVideoBackend" if _TWILIO_READY else "appointments.video.local.LocalVideoBackend"
)
# The public address Twilio calls back (e.g. https://petition.example.gov.cn); empty = the address of the request.
VIDEO_PUBLIC_BASE_URL = os.environ.get("VIDEO_PUBLIC_BASE_URL", "").rstrip("/")
VIDEO_ROOM_PREFIX = os.environ.get("VIDEO_ROOM_PREFIX", "petition-appointment-")
VIDEO_TOKEN_TTL_SECONDS = int(os.environ.get("VIDEO_TOKEN_TTL_SECONDS", "300"))
VIDEO_JOIN_OPENS_BEFORE_MINUTES = int(os.environ.get("VIDEO_JOIN_OPENS_BEFORE_MINUTES", "15"))
VIDEO_JOIN_CLOSES_AFTER_MINUTES = int(os.environ.get("VIDEO_JOIN_CLOSES_AFTER_MINUTES", "30"))
VIDEO_NO_SHOW_GRACE_MINUTES = int(os.environ.get("VIDEO_NO_SHOW_GRACE_MINUTES", "15"))
VIDEO_MAX_PARTICIPANTS = int(os.environ.get("VIDEO_MAX_PARTICIPANTS", "6"))
VIDEO_EMPTY_ROOM_TIMEOUT_MINUTES = int(os.environ.get("VIDEO_EMPTY_ROOM_TIMEOUT_MINUTES", "10"))
VIDEO_UNUSED_ROOM_TIMEOUT_MINUTES = int(os.environ.get("VIDEO_UNUSED_ROOM_TIMEOUT_MINUTES", "20"))
# SMS to residents: Twilio Messaging when a sender is configured, else the local outbox (/staff/sms/outbox/).
TWILIO_SMS_FROM = os.environ.get("TWILIO_SMS_FROM", "")  # a sending number in E.164 …
TWILIO_MESSAGING_SERVICE_SID = os.environ.get("TWILIO_MESSAGING_SERVICE_SID", "")  # … or a messaging service (MG…)
# Twilio's REST address; only changed to reach a regional edge, a proxy, or the local mock in tests.
TWILIO_API_BASE_URL = os.environ.get("TWILIO_API_BASE_URL", "").rstrip("/")
SMS_BACKEND = os.environ.get("SMS_BACKEND") or (
    "appointments.notify.sms.twilio.TwilioSmsBackend"
    if TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN and (TWILIO_SMS_FROM or TWILIO_MESSAGING_SERVICE_SID)
    else "appointments.notify.sms.local.LocalSmsBackend"
)
# The public address used in SMS links and Twilio's status callbacks (e.g. https://petition.example.gov.cn).
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", VIDEO_PUBLIC_BASE_URL or "http://127.0.0.1:8000").rstrip("/")
SMS_REMINDER_HOURS = (24, 1)
# The sender's sign every SMS in China starts with (签名), as registered with the carriers.
SMS_SIGNATURE = os.environ.get("SMS_SIGNATURE", "【信访局】")
# A message claimed this long ago and still "sending" belongs to a worker that died: its fate is unknown.
SMS_SENDING_STALE_SECONDS = int(os.environ.get("SMS_SENDING_STALE_SECONDS", "120"))
SMS_SWEEP_SECONDS = int(os.environ.get("SMS_SWEEP_SECONDS", "60"))
# How long a seat offered to the next resident on the waiting list is held for them.
WAITLIST_OFFER_HOURS = float(os.environ.get("WAITLIST_OFFER_HOURS", "2"))
LOGIN_REDIRECT_URL = "/staff/"
