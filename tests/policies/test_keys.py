"""Key file creation, rotation and the checks that make a bad key file fail closed."""

from __future__ import annotations

import base64
import json
import stat

import pytest

from policies.exceptions import KeyStoreError
from policies.keys import key_file_create, key_file_rotate, key_store_load


def test_create_load_rotate(tmp_path) -> None:
    path = tmp_path / "var" / "keys.json"
    assert key_file_create(path=path) == "k1"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    store = key_store_load(path=path)
    assert store.current == "k1"
    assert len(store.keys["k1"]) == 32
    assert key_file_rotate(path=path) == "k2"
    rotated = key_store_load(path=path)
    assert rotated.current == "k2"
    assert rotated.keys["k1"] == store.keys["k1"]
    assert rotated.keys["k2"] != store.keys["k1"]


def test_create_refuses_to_overwrite(tmp_path) -> None:
    path = tmp_path / "keys.json"
    key_file_create(path=path)
    with pytest.raises(KeyStoreError):
        key_file_create(path=path)


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        json.dumps([]),
        json.dumps({"current": "k1", "keys": {}}),
        json.dumps({"current": "k2", "keys": {"k1": base64.b64encode(b"x" * 32).decode()}}),
        json.dumps({"current": "k1", "keys": {"k1": base64.b64encode(b"short").decode()}}),
        json.dumps({"current": "k1", "keys": {"k1": "***not base64***"}}),
        json.dumps({"current": "k1", "keys": {"k1": 12}}),
    ],
)
def test_bad_key_files_are_rejected(tmp_path, content) -> None:
    path = tmp_path / "keys.json"
    path.write_text(content)
    with pytest.raises(KeyStoreError):
        key_store_load(path=path)


def test_missing_key_file_is_rejected(tmp_path) -> None:
    with pytest.raises(KeyStoreError):
        key_store_load(path=tmp_path / "absent.json")


def test_derivation_differs_by_use_and_context(tmp_path) -> None:
    path = tmp_path / "keys.json"
    key_file_create(path=path)
    store = key_store_load(path=path)
    a = store.derive(key_id="k1", use="pseudonym", context="vendor:A\x00p")
    assert a == store.derive(key_id="k1", use="pseudonym", context="vendor:A\x00p")
    assert a != store.derive(key_id="k1", use="pseudonym", context="vendor:B\x00p")
    assert a != store.derive(key_id="k1", use="encrypt", context="vendor:A\x00p")
    assert len(store.derive(key_id="k1", use="encrypt", context="c", length=64)) == 64
    with pytest.raises(KeyStoreError):
        store.derive(key_id="k7", use="pseudonym", context="c")


def test_cached_key_store_reloads_after_rotation(tmp_path) -> None:
    from policies.services import key_store_get

    path = tmp_path / "keys.json"
    with pytest.raises(KeyStoreError):
        key_store_get(path=path)
    key_file_create(path=path)
    first = key_store_get(path=path)
    assert key_store_get(path=path) is first
    key_file_rotate(path=path)
    rotated = key_store_get(path=path)
    assert rotated.current == "k2"
    assert rotated is not first
