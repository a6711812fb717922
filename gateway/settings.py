"""The one settings module, read from the environment.

The embedded default (no environment at all, DEBUG on) is a SQLite file under var/, Celery running tasks
eagerly in process and media on local disk, so `make demo` needs nothing else. DATABASE_URL (PostgreSQL,
psycopg 3) and REDIS_URL (Celery broker, cache, rate limits) switch to the real services. Outside DEBUG every
required setting must be given: a missing one stops start-up with ImproperlyConfigured naming it.
"""

from __future__ import annotations

import os
import secrets
import warnings
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CUSTODIAN_VAR_DIR", BASE_DIR / "var"))

_TRUE = {"1", "true", "yes", "on"}


def env(name: str, default: str | None = None, *, required_unless_debug: bool = False) -> str:
    """Read one setting from the environment.

    A required setting that is missing outside DEBUG stops start-up and names the variable, so a production
    deployment never runs on a silently generated or empty value.
    """
    value = os.environ.get(name)
    if value not in (None, ""):
        return value
    if required_unless_debug and not DEBUG:
        raise ImproperlyConfigured(
            f"The environment variable {name} is required when DEBUG is off."
        )
    if default is None:
        return ""
    return default


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    return value.strip().lower() in _TRUE


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env("SECRET_KEY", required_unless_debug=True)
if not SECRET_KEY:
    warnings.warn(
        "SECRET_KEY is not set; DEBUG is on, so a random key is used for this process.",
        stacklevel=1,
    )
    SECRET_KEY = secrets.token_urlsafe(50)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "The environment variable ALLOWED_HOSTS is required when DEBUG is off."
    )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    "gateway",
    "policies",
    "matching",
]

MIDDLEWARE = [
    "gateway.web.middleware.RequestIdMiddleware",
    "gateway.api.middleware.ApiErrorMiddleware",  # JSON errors under /api/, whoever answered
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # every asset served by the gateway itself, no CDN
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into its answer (gateway.web.lockout)
]

ROOT_URLCONF = "gateway.urls"
WSGI_APPLICATION = "gateway.wsgi.application"

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
                "gateway.web.context.staff_navigation",
            ],
        },
    },
]

# Database: the embedded default is a SQLite file under var/; DATABASE_URL switches to PostgreSQL.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'custodian.sqlite3'}"), conn_max_age=60
    )
}
if os.environ.get("TEST_DATABASE_NAME"):
    # Lets a separate Celery worker process and the test run share one test database (see .ci/run).
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DATABASE_NAME"]}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# The lockout backend first: it refuses a locked username+IP before a password is even checked.
AUTHENTICATION_BACKENDS = [
    "gateway.recipients.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Lockout (django-axes) on the login page and on API Basic-auth passwords, keyed on username and IP
# together, so one address guessing cannot lock a colleague out from everywhere (rules.md CJ-04).
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = int(env("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(env("AXES_COOLOFF_MINUTES", "30")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "gateway.web.lockout.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
# Idle timeout: a staff session ends after this long without a request (saved on every request).
SESSION_COOKIE_AGE = int(env("SESSION_IDLE_SECONDS", "1800"))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# A TOTP code is good once (django-otp keeps the last step used); the issuer names the county's gateway.
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", "Custodian")

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", "America/Chicago")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = (
    DEBUG  # development serves straight from static/; production from collectstatic
)
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media-not-served/"  # mugshots are never served directly; they leave only through the release path
STORAGES = {
    "default": {
        "BACKEND": env("MEDIA_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage")
    },
    # Hashed, compressed names outside DEBUG (after `collectstatic`), served by WhiteNoise.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Redis: Celery broker, cache and rate limits. Without it, tasks run eagerly and the cache is in memory.
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SOFT_TIME_LIMIT = int(env("CELERY_TASK_SOFT_TIME_LIMIT", "1800"))
CELERY_TASK_TIME_LIMIT = int(env("CELERY_TASK_TIME_LIMIT", "2000"))
CELERY_TASK_ACKS_LATE = True  # a task killed mid-way is redelivered; tasks are idempotent
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]

REST_FRAMEWORK = {
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Basic first: DRF takes the challenge from the first class, so missing or wrong credentials are a
    # 401 with WWW-Authenticate (Session has no challenge, which made them a 403). Session still works.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "gateway.api.authentication.LockoutAwareBasicAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Bad or too deeply nested JSON is a 400 `malformed_json` (DRF's parser recursed into a 500).
    "DEFAULT_PARSER_CLASSES": [
        "gateway.api.parsers.DepthLimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # JSON only: no browsable HTML pages, so errors are JSON whatever the Accept header says.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Fails closed: an unreachable cache is a 503 `rate_limit_unavailable`, never unthrottled service.
    "DEFAULT_THROTTLE_CLASSES": ["gateway.api.throttling.FailClosedScopedRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"releases": env("RELEASE_RATE", "120/hour")},
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "gateway.api.errors.exception_handler",
}
# CJ-09: a `not_available` answer (denied, sealed, juvenile, expunged, removed or no such booking) is sent no
# sooner than this many seconds after the request arrived, so its timing cannot tell the reasons apart either.
RELEASE_NOT_AVAILABLE_SECONDS = float(env("RELEASE_NOT_AVAILABLE_SECONDS", "0.25"))
# A request nobody has decided expires after this many days (issue 9; Google Cloud PAM convention).
REQUEST_PENDING_DAYS = int(env("REQUEST_PENDING_DAYS", "14"))
SPECTACULAR_SETTINGS = {"TITLE": "Custodian API", "VERSION": "0.1.0"}

# Policies: the shipped library plus an optional county directory; keys for pseudonyms and tokens.
POLICY_DIRS = [BASE_DIR / "policies" / "library"]
if env("COUNTY_POLICY_DIR"):
    POLICY_DIRS.append(Path(env("COUNTY_POLICY_DIR")))
POLICY_KEYS_FILE = Path(env("POLICY_KEYS_FILE", str(VAR_DIR / "keys.json")))

# Matching: built face models are cached here; nothing is ever downloaded at run time.
FACE_MODEL_DIR = Path(env("FACE_MODEL_DIR", str(VAR_DIR / "models")))
MATCH_THRESHOLD = float(env("MATCH_THRESHOLD", "0.6"))  # used only by the demonstration setting
MATCH_LIST_SIZE = int(env("MATCH_LIST_SIZE", "10"))
# The evaluation gate (rules.md FR-03): exact upper bounds, calibrated threshold, enough searches per group.
MATCH_EVALUATION_MAX_FPIR = float(env("MATCH_EVALUATION_MAX_FPIR", "0.01"))
MATCH_EVALUATION_MAX_FNIR = float(env("MATCH_EVALUATION_MAX_FNIR", "0.02"))
MATCH_EVALUATION_MIN_NONMATED = int(env("MATCH_EVALUATION_MIN_NONMATED", "300"))
MATCH_EVALUATION_MIN_MATED = int(env("MATCH_EVALUATION_MIN_MATED", "5"))
# Searches on a gallery too small to evaluate, every one labelled so: for the demo, never production.
MATCH_DEMONSTRATION = env_bool("MATCH_DEMONSTRATION", False)
if MATCH_DEMONSTRATION and not DEBUG:
    raise ImproperlyConfigured(
        "MATCH_DEMONSTRATION is a demo setting: it runs face searches no evaluation admitted, so it "
        "is refused when DEBUG is off"
    )

# Photos (mugshots imported, probes searched, gallery photos enrolled: one set of limits for all, see
# matching/images.py): decoded for real before use; larger, smaller or stranger ones are refused.
MUGSHOT_MAX_BYTES = int(env("MUGSHOT_MAX_BYTES", str(20 * 1024 * 1024)))
MUGSHOT_MAX_PIXELS = int(env("MUGSHOT_MAX_PIXELS", str(40_000_000)))
MUGSHOT_MIN_SIDE = int(env("MUGSHOT_MIN_SIDE", "48"))
MUGSHOT_MAX_ASPECT = float(env("MUGSHOT_MAX_ASPECT", "3.0"))

# Legal documents and signed agreements (gateway/documents): PDF or image, checked from the bytes.
LEGAL_DOCUMENT_MAX_BYTES = int(env("LEGAL_DOCUMENT_MAX_BYTES", str(20 * 1024 * 1024)))
LEGAL_DOCUMENT_MAX_PAGES = int(env("LEGAL_DOCUMENT_MAX_PAGES", "200"))
LEGAL_DOCUMENT_MAX_PIXELS = int(env("LEGAL_DOCUMENT_MAX_PIXELS", "60000000"))

# Deployment hardening: `manage.py check --deploy` is clean when DEBUG is off.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = 0 if DEBUG else int(env("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
# No inline script or style anywhere (not even 'unsafe-inline'): every page loads its CSS and JS from
# /static/, so an injected <script> or style attribute does nothing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
}
