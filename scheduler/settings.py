"""Settings for the video-petition scheduler, read from the environment."""

import os
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP
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

# Separate key for residents' ID numbers, names and mobiles, so rotating SECRET_KEY does not lose data.
FIELD_ENCRYPTION_KEY = os.environ.get("FIELD_ENCRYPTION_KEY", SECRET_KEY)
# Earlier field keys, newest first (comma-separated): still read until `manage.py rotate_field_key` has re-encrypted
# every row under FIELD_ENCRYPTION_KEY; then remove them (docs/personal-data.md).
FIELD_ENCRYPTION_OLD_KEYS = env_list("FIELD_ENCRYPTION_OLD_KEYS", "")
# Residents whose petitions all ended longer ago than this are anonymised by `manage.py retention` (and the worker).
RETENTION_YEARS = int(os.environ.get("RETENTION_YEARS", "5"))

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    # The admin site asks the second factor too (departments/admin_site.py, docs/signin.md).
    "departments.admin_site.VerifiedAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "django_tasks_db",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "departments",
    "scheduler",
    "appointments",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",  # the policy is SECURE_CSP, in the production section
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "scheduler.middleware.KioskDefaultLanguage",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "departments.signin.SecondFactorRequired",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "scheduler.middleware.ApiJsonErrors",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
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
    # Redis's own backend, made to degrade (warn, miss) rather than fail requests while Redis is away.
    CACHES = {"default": {"BACKEND": "scheduler.resilient_cache.ResilientRedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# A covering index (audit_status_moves INCLUDE target_id) is PostgreSQL's; SQLite builds it without the extra
# column, which is all the development database needs.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

TASKS = {"default": {"BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend")}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"

# Signing in (docs/signin.md). django-axes: after AXES_FAILURE_LIMIT wrong passwords for one username (from
# anywhere) or from one address (any usernames), that username or address is refused until the cool-off ends,
# even with the right password. Behind TRUST_PROXY the address is the one the proxy saw.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_MINUTES", "15")) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "departments.signin.axes_username"  # over-long names cut to the column
AXES_LOCKOUT_CALLABLE = "departments.signin.lockout_response"  # registration/locked_out.html, in both languages
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if env_bool("TRUST_PROXY", False) else ["REMOTE_ADDR"]
)
AXES_IPWARE_PROXY_COUNT = 1 if env_bool("TRUST_PROXY", False) else None
# A TOTP code (django-otp) after the password, for petition officers, department admins and admin-site users.
# Always on; the test suite turns it off for tests that sign people in with force_login (tests/conftest.py).
SIGNIN_OTP_REQUIRED = True
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "信访视频接访")
# Wrong kiosk keys and bearer tokens from one address: after this many in the window, 429 for that address.
BAD_CREDENTIALS_LIMIT = int(os.environ.get("BAD_CREDENTIALS_LIMIT", "20"))
BAD_CREDENTIALS_WINDOW_SECONDS = int(os.environ.get("BAD_CREDENTIALS_WINDOW_SECONDS", "900"))

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
# How long a department's open times may be reused by the pages and the public listing (scheduler.availability_cache);
# every booking, cancellation, publishing or closure renews them at once; 0 turns the cache off.
AVAILABILITY_CACHE_SECONDS = int(os.environ.get("AVAILABILITY_CACHE_SECONDS", "15"))
# Client addresses for throttling come from REMOTE_ADDR, or from X-Forwarded-For only behind a trusted proxy.
NINJA_NUM_PROXIES = 1 if env_bool("TRUST_PROXY", False) else 0
# Years whose holiday schedule the State Council has announced; later ones are provisional.
HOLIDAY_CONFIRMED_YEARS = [int(y) for y in env_list("HOLIDAY_CONFIRMED_YEARS", "2024,2025,2026")]

# Community kiosk: after this many seconds without a touch it warns, and after the warning it starts over.
KIOSK_IDLE_SECONDS = int(os.environ.get("KIOSK_IDLE_SECONDS", "90"))
KIOSK_IDLE_WARNING_SECONDS = int(os.environ.get("KIOSK_IDLE_WARNING_SECONDS", "20"))
KIOSK_KEY_COOKIE = "kiosk_key"
# Kiosk voice: prompts rendered ahead of time (`manage.py kiosk_voice build`, served as static files), and clips
# rendered on demand (department names, days, counts), cached by the digest of their text.
KIOSK_VOICE_ROOT = BASE_DIR / "static" / "voice"
KIOSK_VOICE_CACHE = Path(os.environ.get("KIOSK_VOICE_CACHE", str(BASE_DIR / ".voice-cache")))

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
        # At DEBUG it logs whole template contexts (a resident's name on the kiosk's confirm screen, say).
        "django.template": {"level": "INFO"},
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


# ---------------------------------------------------------------------------------------------------------------
# Production serving (DEBUG=0): cookies, HTTPS, CSP, keys, database connections, static files, cache, health.
# Kept together on purpose; explained in deploy/README.md and checked by tests/prod/test_deploy_settings.py.
# "Production" is DEBUG off without the developer-key allowance that the test suite and `make messages` set.
PRODUCTION = not DEBUG and os.environ.get("DJANGO_ALLOW_DEV_SECRET") != "1"
if PRODUCTION and not os.environ.get("FIELD_ENCRYPTION_KEY"):
    raise RuntimeError(
        "FIELD_ENCRYPTION_KEY must be set in production, apart from SECRET_KEY: it encrypts residents' personal data, "
        "and rotating SECRET_KEY must not make that data unreadable. Generate one with "
        "`python -c 'import secrets; print(secrets.token_urlsafe(48))'` and keep it with the database backups' keys."
    )
if PRODUCTION and os.environ.get("FIELD_ENCRYPTION_KEY") == SECRET_KEY:
    raise RuntimeError("FIELD_ENCRYPTION_KEY must differ from SECRET_KEY in production.")
if PRODUCTION and not REDIS_URL:
    raise RuntimeError(
        "REDIS_URL must be set in production: API limits are counted across processes and the health check "
        "sees the task workers through it."
    )

# Cookies: over HTTPS only, out of reach of scripts, not sent on cross-site requests. SECURE_COOKIES=0 only for a
# loopback run over plain HTTP (the load test). Scripts that call the API take the CSRF token from the page.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", PRODUCTION)
SESSION_COOKIE_HTTPONLY = CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
# A staff member signs in once for a working day, not for Django's default two weeks.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(int(9.5 * 3600))))

# HTTPS. Behind a proxy that ends TLS, set TRUST_PROXY=1 so X-Forwarded-Proto tells Django the request was secure.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_REDIRECT_EXEMPT = [r"^health/$"]  # load balancers poll over plain HTTP inside the network
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600 if PRODUCTION else 0)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

# Content-Security-Policy (Django's own middleware): scripts only from our own static files, never inline. Styles
# may be inline (a few templates carry style attributes; a style cannot run code). Twilio's video SDK talks to
# Twilio. Enforced in production; elsewhere the same policy is sent report-only, so a violation shows in the console.
_CSP_POLICY = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "media-src": [CSP.SELF, "blob:"],
    "worker-src": [CSP.SELF, "blob:"],
    "connect-src": [CSP.SELF, *env_list("CSP_CONNECT_SRC_EXTRA", "https://*.twilio.com,wss://*.twilio.com")],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
SECURE_CSP = _CSP_POLICY if env_bool("CSP_ENFORCE", PRODUCTION) else {}
SECURE_CSP_REPORT_ONLY = {} if SECURE_CSP else _CSP_POLICY

# Persistent connections, checked before reuse: after a database restart or failover the next request reconnects
# instead of failing. Behind PgBouncer in transaction mode, server-side cursors and prepared statements must go.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("DB_CONN_MAX_AGE", "60"))
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3" and env_bool("DB_SERVER_SIDE_BINDING", True):
    # Values sent apart from the SQL, and a statement met DB_PREPARE_THRESHOLD times on one connection prepared by
    # psycopg (Django itself turns psycopg's preparing off): PostgreSQL then neither parses nor, once it settles on
    # a generic plan, plans the booking's fixed statements again. 0 turns preparing off.
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True
    _prepare_after = int(os.environ.get("DB_PREPARE_THRESHOLD", "5"))
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = _prepare_after if _prepare_after > 0 else None
if env_bool("PGBOUNCER_TRANSACTION_POOLING", False):
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None

# Static files: collected (`manage.py collectstatic`), hashed and compressed, served by WhiteNoise with far-future
# caching. Outside production the files are served straight from static/, so a checkout works without collecting.
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
if PRODUCTION:
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    WHITENOISE_USE_FINDERS = False

# The health endpoint (/health/) wants a task worker heartbeat no older than this.
HEALTH_WORKER_MAX_AGE_SECONDS = int(os.environ.get("HEALTH_WORKER_MAX_AGE_SECONDS", "180"))
