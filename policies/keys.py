"""County-held key store for pseudonyms, date shifts and deterministic encryption.

Key material lives in a JSON file ``{"current": "k2", "keys": {"k1": "<base64>", "k2": "<base64>"}}``.
Every token carries the id of the key that made it, so old tokens can still be reversed after rotation,
and a missing key is an error (the caller denies) rather than a silent fallback to an unkeyed hash.
Per-recipient, per-purpose keys are derived from the master key with HMAC-SHA256 (an HKDF-expand step),
which keeps pseudonyms unlinkable across recipients (rules.md section 5).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from policies.exceptions import KeyStoreError, PolicyErrorCode

__all__ = ["MIN_KEY_BYTES", "KeyStore", "key_file_create", "key_file_rotate", "key_store_load"]

MIN_KEY_BYTES = 32
_DERIVE_PREFIX = b"custodian/policies/v1\x00"


@dataclass(frozen=True)
class KeyStore:
    """Master keys by id plus the id new tokens are made with. Derived keys are memoised per store."""

    current: str
    keys: dict[str, bytes]
    _derived: dict[tuple[str, str, str], bytes] = field(
        default_factory=dict, repr=False, compare=False
    )
    # Compiled transform plans made with this store's keys (see policies.transforms.plan_get).
    plans: dict[object, object] = field(default_factory=dict, repr=False, compare=False)

    def master(self, key_id: str) -> bytes:
        """Return master key ``key_id``; a missing id raises so the caller fails closed."""
        try:
            return self.keys[key_id]
        except KeyError:
            raise KeyStoreError(f"key id {key_id!r} is not in the key store") from None

    def derive(self, *, key_id: str, use: str, context: str, length: int = 32) -> bytes:
        """Derive a key for one use (pseudonym, date shift, encrypt) and one context (recipient+purpose).

        Derivation is deterministic so the same recipient and purpose always get the same pseudonyms,
        and different contexts give independent keys.
        """
        memo_key = (key_id, use, f"{context}\x00{length}")
        cached = self._derived.get(memo_key)
        if cached is not None:
            return cached
        master = self.master(key_id)
        info = _DERIVE_PREFIX + use.encode() + b"\x00" + context.encode()
        blocks = b""
        counter = 1
        previous = b""
        while len(blocks) < length:
            previous = hmac.digest(master, previous + info + bytes([counter]), "sha256")
            blocks += previous
            counter += 1
        derived = blocks[:length]
        self._derived[memo_key] = derived
        return derived


def _decode_key(key_id: str, encoded: object) -> bytes:
    if not isinstance(encoded, str):
        raise KeyStoreError(
            f"key {key_id!r} must be a base64 string", code=PolicyErrorCode.KEY_FILE_INVALID
        )
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise KeyStoreError(
            f"key {key_id!r} is not valid base64", code=PolicyErrorCode.KEY_FILE_INVALID
        ) from None
    if len(raw) < MIN_KEY_BYTES:
        raise KeyStoreError(
            f"key {key_id!r} has {len(raw)} bytes; at least {MIN_KEY_BYTES} are required",
            code=PolicyErrorCode.KEY_FILE_INVALID,
        )
    return raw


def key_store_load(*, path: Path) -> KeyStore:
    """Read and check a key file. Any problem raises ``KeyStoreError``; releases then get denied."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KeyStoreError(f"key file {path} does not exist") from None
    except (OSError, ValueError) as exc:
        raise KeyStoreError(
            f"key file {path} is unreadable: {exc}", code=PolicyErrorCode.KEY_FILE_INVALID
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("keys"), dict):
        raise KeyStoreError(
            f"key file {path} must hold an object with 'current' and 'keys'",
            code=PolicyErrorCode.KEY_FILE_INVALID,
        )
    keys = {str(key_id): _decode_key(str(key_id), value) for key_id, value in data["keys"].items()}
    current = data.get("current")
    if not isinstance(current, str) or current not in keys:
        raise KeyStoreError(
            f"key file {path}: 'current' must name one of the keys",
            code=PolicyErrorCode.KEY_FILE_INVALID,
        )
    return KeyStore(current=current, keys=keys)


def _write_private(path: Path, data: dict[str, object]) -> None:
    """Write the key file readable by the owner only, replacing it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.replace(tmp, path)


def _new_key() -> str:
    return base64.b64encode(secrets.token_bytes(MIN_KEY_BYTES)).decode()


def key_file_create(*, path: Path, key_id: str = "k1", overwrite: bool = False) -> str:
    """Create a fresh key file with one random 32-byte key and return its id.

    Refuses to overwrite an existing file unless asked, because losing a key makes every token made
    with it irreversible and every pseudonym unlinkable to later releases.
    """
    if path.exists() and not overwrite:
        raise KeyStoreError(
            f"key file {path} already exists; rotate instead of overwriting",
            code=PolicyErrorCode.KEY_FILE_INVALID,
        )
    _write_private(path, {"current": key_id, "keys": {key_id: _new_key()}})
    return key_id


def key_file_rotate(*, path: Path) -> str:
    """Add a new key, make it current and keep the old ones (old tokens stay reversible)."""
    store = key_store_load(path=path)
    number = len(store.keys) + 1
    while f"k{number}" in store.keys:
        number += 1
    key_id = f"k{number}"
    encoded = {kid: base64.b64encode(raw).decode() for kid, raw in store.keys.items()}
    encoded[key_id] = _new_key()
    _write_private(path, {"current": key_id, "keys": encoded})
    return key_id
