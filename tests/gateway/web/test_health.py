"""/health/ names each part: 200 when every required part is ok, 503 `degraded` otherwise."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.test import Client

from matching.registry import DESCRIPTOR
from policies.services import key_file_create

pytestmark = pytest.mark.django_db
LIBRARY = Path(__file__).resolve().parents[3] / "policies" / "library"
ALL_OK = {"database": "ok", "cache": "ok", "policies": "ok", "keys": "ok"}


@pytest.fixture(autouse=True)
def _parts(settings, tmp_path: Path) -> None:
    """Every required part present; the face models not built (as in a fresh install)."""
    settings.POLICY_DIRS = [LIBRARY]
    settings.POLICY_KEYS_FILE = tmp_path / "secret-keys.json"
    key_file_create(path=settings.POLICY_KEYS_FILE)
    settings.FACE_MODEL_DIR = tmp_path / "models"


def _health(client: Client, status: int) -> dict[str, Any]:
    response = client.get("/health/")
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()
    assert body["status"] == ("ok" if status == 200 else "degraded")
    return body


def test_everything_up_is_ok_and_missing_face_models_do_not_degrade_it(client: Client) -> None:
    body = _health(client, 200)
    assert body["checks"] == {**ALL_OK, "face_models": "missing"}


def test_built_face_models_are_ok(client: Client, settings) -> None:
    fields = ("kind", "file", "sha256", "licence", "source_package", "source_version")
    record: dict[str, object] = {**dict.fromkeys(fields, "x"), "source_file": "x"}
    record |= {"name": DESCRIPTOR, "source_sha256": "x", "input": {}}
    settings.FACE_MODEL_DIR.mkdir()
    registry = {"models": {DESCRIPTOR: record}}
    (settings.FACE_MODEL_DIR / "registry.json").write_text(json.dumps(registry))
    assert _health(client, 200)["checks"]["face_models"] == "ok"


def test_an_unreadable_face_model_registry_is_reported_but_not_degrading(
    client: Client, settings
) -> None:
    settings.FACE_MODEL_DIR.mkdir()
    (settings.FACE_MODEL_DIR / "registry.json").write_text("{broken")
    assert _health(client, 200)["checks"]["face_models"] == "unreadable"


def test_a_missing_key_ring_degrades(client: Client, settings) -> None:
    settings.POLICY_KEYS_FILE.unlink()
    body = _health(client, 503)
    assert body["checks"] == {**ALL_OK, "keys": "missing", "face_models": "missing"}


def test_a_broken_key_ring_degrades(client: Client, settings) -> None:
    settings.POLICY_KEYS_FILE.write_text("{not json")
    assert _health(client, 503)["checks"]["keys"] == "invalid"


def test_a_key_ring_without_its_current_key_degrades(client: Client, settings) -> None:
    data = json.loads(settings.POLICY_KEYS_FILE.read_text())
    data["current"] = "no-such-key"
    settings.POLICY_KEYS_FILE.write_text(json.dumps(data))
    assert _health(client, 503)["checks"]["keys"] == "invalid"


def test_an_invalid_policy_set_degrades(client: Client, settings, tmp_path: Path) -> None:
    county = tmp_path / "county"
    county.mkdir()
    (county / "broken.yaml").write_text("kind: agreement\nid: [unclosed\n")
    settings.POLICY_DIRS = [LIBRARY, county]
    assert _health(client, 503)["checks"]["policies"] == "invalid"


def test_a_missing_policy_directory_degrades(client: Client, settings, tmp_path: Path) -> None:
    settings.POLICY_DIRS = [tmp_path / "nowhere"]
    assert _health(client, 503)["checks"]["policies"] == "invalid"


def test_redis_down_degrades(client: Client, settings) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    assert _health(client, 503)["checks"]["cache"] == "unavailable"


def test_the_database_down_degrades(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.web import health

    class Unreachable:
        vendor = connection.vendor

        def cursor(self) -> Any:
            raise OperationalError("could not connect to server")

    monkeypatch.setattr(health, "connection", Unreachable())
    assert _health(client, 503)["checks"]["database"] == "unavailable"


def test_a_read_only_sqlite_database_degrades(client: Client) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only; PostgreSQL has its own test")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA query_only = ON")
    try:
        body = _health(client, 503)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA query_only = OFF")
    assert body["checks"]["database"] == "read_only"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_read_only_postgres_database_degrades(client: Client) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET default_transaction_read_only = on")
    try:
        body = _health(client, 503)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET default_transaction_read_only = off")
    assert body["checks"]["database"] == "read_only"


def test_reasons_reveal_no_paths_or_keys(client: Client, settings, tmp_path: Path) -> None:
    settings.POLICY_KEYS_FILE.write_text("{not json")
    settings.POLICY_DIRS = [tmp_path / "nowhere"]
    response = client.get("/health/")
    assert str(tmp_path).encode() not in response.content
    assert b"secret-keys" not in response.content
    assert b"nowhere" not in response.content
