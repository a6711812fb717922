"""Test settings: the production module plus the few overrides tests need.

In-memory SQLite unless DATABASE_URL is set (then PostgreSQL, as in .ci/run).
"""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")

from gateway.settings import *  # noqa: F403
from gateway.settings import DATABASES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
if not os.environ.get("DATABASE_URL"):
    DATABASES["default"] = {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Eager everywhere; a live-worker test turns it off for itself with the `live_celery` fixture.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
_TEST_VAR = Path(os.environ.get("CUSTODIAN_TEST_VAR", tempfile.mkdtemp(prefix="custodian-test-")))
MEDIA_ROOT = _TEST_VAR / "media"
STATIC_ROOT = (
    _TEST_VAR / "static"
)  # WhiteNoise warns about a missing STATIC_ROOT; serve through finders
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
POLICY_KEYS_FILE = _TEST_VAR / "keys.json"
SECURE_SSL_REDIRECT = False
FACE_MODEL_DIR = _TEST_VAR / "models"
RELEASE_NOT_AVAILABLE_SECONDS = 0.0  # tests of the floor set their own, with a fake clock
