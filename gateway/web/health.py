"""Health selectors: each part the gateway needs, checked on its own and named in the answer.

A health check that only said "ok" while the policies were invalid, the key ring gone or Redis down
would keep monitoring quiet while every release was denied or refused. Each part is reported as ``ok`` or
a short reason; the reasons name what is wrong, never a path, a key, a record or an exception message
(those go to ``manage.py policy validate`` and the logs).

Required parts (the database, the cache that holds the rate limits, the policy set and the key ring)
make the whole status ``degraded``; the face models are reported but optional, since matching is an
optional part of the gateway (``matching/checks.py`` only warns at start-up, for the same reason).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from redis.exceptions import RedisError

from matching.exceptions import MatchingError, ModelMissingError
from matching.services import face_models_load
from policies.exceptions import KeyStoreError, PolicyError, PolicyErrorCode
from policies.services import key_store_get, policy_set_get

__all__ = ["OK", "OPTIONAL_CHECKS", "HealthReport", "health_report_get"]

OK = "ok"
OPTIONAL_CHECKS = frozenset({"face_models"})


@dataclass(frozen=True)
class HealthReport:
    """Each check's ``ok`` or reason; healthy when every required check is ``ok``."""

    checks: dict[str, str]

    @property
    def healthy(self) -> bool:
        return all(v == OK for k, v in self.checks.items() if k not in OPTIONAL_CHECKS)

    def as_dict(self) -> dict[str, object]:
        return {"status": "ok" if self.healthy else "degraded", "checks": dict(self.checks)}


def health_report_get() -> HealthReport:
    """Check every part now (the policy set and key ring are cached until their files change)."""
    return HealthReport(
        checks={
            "database": _database(),
            "cache": _cache(),
            "policies": _policies(),
            "keys": _keys(),
            "face_models": _face_models(),
        }
    )


def _database() -> str:
    """Reachable, and writable: a read-only database takes no audit entry, so it releases nothing."""
    try:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT current_setting('transaction_read_only')")
                read_only = cursor.fetchone()[0] == "on"
            elif connection.vendor == "sqlite":
                cursor.execute("PRAGMA query_only")
                read_only = bool(cursor.fetchone()[0])
            else:
                cursor.execute("SELECT 1")
                read_only = False
    except DatabaseError:
        return "unavailable"
    return "read_only" if read_only else OK


def _cache() -> str:
    """The cache (Redis when REDIS_URL is set) answers a write and a read: the rate limits live there."""
    key = f"custodian:health:{secrets.token_hex(8)}"
    try:
        cache.set(key, OK, timeout=10)
        answered = cache.get(key)
        cache.delete(key)
    except (RedisError, OSError):
        return "unavailable"
    return OK if answered == OK else "not_answering"


def _policies() -> str:
    try:
        policy_set = policy_set_get(dirs=[Path(d) for d in settings.POLICY_DIRS])
    except (PolicyError, OSError, ValueError):
        return "unreadable"
    return OK if policy_set.valid else "invalid"


def _keys() -> str:
    try:
        store = key_store_get(path=Path(settings.POLICY_KEYS_FILE))
    except KeyStoreError as exc:
        return "missing" if exc.code is PolicyErrorCode.KEY_MISSING else "invalid"
    try:
        store.master(store.current)  # as decide() does: a ring without its current key is unusable
    except KeyStoreError:
        return "invalid"
    return OK


def _face_models() -> str:
    """Whether the matcher would find its models (as ``matching/checks.py`` warns at start-up)."""
    directory = getattr(settings, "FACE_MODEL_DIR", None)
    if directory is None:
        return "not_configured"
    try:
        face_models_load(directory=Path(directory))
    except ModelMissingError:
        return "missing"
    except (MatchingError, OSError, ValueError, TypeError, KeyError):
        return "unreadable"
    return OK
