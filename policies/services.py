"""Public entry points of the policy engine; the gateway calls only these (house style B2).

Everything takes plain values (paths, dicts, frozen dataclasses). ``decide`` is the one decision point:
it never raises for bad input or internal faults, it answers deny (fail closed, governance.md 3.3).
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from policies.exceptions import PolicyErrorCode, TokenRevealError
from policies.keys import KeyStore, key_file_create, key_file_rotate, key_store_load
from policies.loader import TEST_SUFFIXES, policy_files, policy_set_load
from policies.model import PolicySet
from policies.reasons import reason
from policies.records import ADULT_AGE, record_exclusion
from policies.rules import evaluate, is_administrative
from policies.transforms import token_decrypt
from policies.types import Decision, Effect, Obligations, ReasonCode

__all__ = [
    "ADULT_AGE",
    "KeyStore",
    "PolicyTestResult",
    "decide",
    "document_refusal",
    "key_file_create",
    "key_file_rotate",
    "key_store_get",
    "key_store_load",
    "policy_set_get",
    "policy_set_load",
    "policy_tests_run",
    "record_exclusion",
    "token_reveal",
]

_CACHE: dict[tuple[Any, ...], PolicySet] = {}
_KEY_CACHE: dict[tuple[Any, ...], KeyStore] = {}


def decide(
    *,
    request: Mapping[str, Any],
    policy_set: PolicySet,
    keys: KeyStore | None,
    now: datetime | None = None,
    reviewed_by: str | None = None,
    field_tags: Mapping[str, Sequence[str]] | None = None,
    proxy_registered: bool = False,
) -> Decision:
    """Decide one release request and, when permitted, return the transformed records.

    ``reviewed_by``: the person (not the requester; the caller checks) who reviewed a request sent
    to review (the keyword backstop, an unregistered proxy). Without it such a request answers
    ``review``; it never lifts a deny, and never one whose reasons are flagged ``non_overridable``.

    ``field_tags``: the county's sensitivity tags per field path (``{"person.race":
    ["quasi_identifier", "protected_trait"], ...}``), from the caller and never from the request
    JSON, so a requester cannot untag a field. Tags only remove fields: a field tagged
    ``immigration_sensitive`` joins the built-in immigration-sensitive set (IM-05), and an agreement
    purpose's ``exclude_tags`` drops every field carrying one of those tags. ``None`` means the tags
    are unknown, and a purpose that excludes by tag then denies.

    ``proxy_registered``: set it true only after matching the request's ``on_behalf_of`` against
    the caller's own registry of recipients, never from the request body. The engine cannot know
    that registry; the default (false) means "unknown principal", so any request with a non-null
    ``on_behalf_of`` answers ``review`` (reason ``REVIEW_PROXY_UNREGISTERED``) instead of an
    automatic permit. It never lifts a deny either.

    Any exception inside evaluation becomes a deny with reason ``DENY_ENGINE_ERROR``: a fault must
    never release data, and the caller still gets a decision it can audit.
    """
    try:
        return evaluate(
            request=request,
            policy_set=policy_set,
            keys=keys,
            now=now or datetime.now(tz=UTC),
            reviewed_by=reviewed_by,
            field_tags=field_tags,
            proxy_registered=proxy_registered,
        )
    except (
        Exception
    ) as exc:  # fail closed is the contract of this function (house style B4 exception)
        return Decision(
            effect=Effect.DENY,
            reasons=(
                reason(ReasonCode.DENY_ENGINE_ERROR, f"evaluation failed: {type(exc).__name__}"),
            ),
            obligations=Obligations(),
            excluded={},
            released=(),
            policy_version=getattr(policy_set, "version", "unknown"),
        )


def policy_set_get(*, dirs: Sequence[Path]) -> PolicySet:
    """Loaded policy set, reloaded only when a policy file changes (checked by size and mtime).

    Lets the gateway call this on every request without re-parsing YAML each time.
    """
    files, _problems = policy_files(dirs=dirs)
    stamp: list[Any] = [tuple(str(d) for d in dirs)]
    for path in files:
        try:
            stat = path.stat()
        except OSError:
            stamp.append((str(path), None))
            continue
        stamp.append((str(path), stat.st_mtime_ns, stat.st_size))
    cache_key = tuple(stamp)
    cached = _CACHE.get(cache_key)
    if cached is None:
        _CACHE.clear()
        cached = policy_set_load(dirs=dirs)
        _CACHE[cache_key] = cached
    return cached


def key_store_get(*, path: Path) -> KeyStore:
    """Loaded key store, re-read only when the file changes (so compiled plans stay cached on it).

    Raises ``KeyStoreError`` like ``key_store_load``; callers pass ``None`` to ``decide`` then.
    """
    try:
        stat = path.stat()
    except OSError:
        _KEY_CACHE.clear()
        return key_store_load(path=path)  # raises the precise KeyStoreError
    cache_key = (str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino)
    store = _KEY_CACHE.get(cache_key)
    if store is None:
        store = key_store_load(path=path)
        _KEY_CACHE.clear()
        _KEY_CACHE[cache_key] = store
    return store


def token_reveal(
    *,
    token: str,
    recipient: Mapping[str, Any],
    purpose: str,
    field: str,
    approvers: Sequence[str],
    keys: KeyStore,
) -> str:
    """Reverse a deterministic-encryption token after a two-person approval.

    ``approvers`` must name at least two different people; the gateway audits the reveal. The token
    only decrypts for the recipient, purpose and field it was issued under.
    """
    distinct = {name.strip().casefold() for name in approvers if name and name.strip()}
    if len(distinct) < 2:
        raise TokenRevealError(
            "reversing a token needs approval by two different people",
            code=PolicyErrorCode.TWO_PERSON_APPROVAL_REQUIRED,
        )
    recipient_type = str(recipient.get("type") or "").strip()
    ident = str(recipient.get("ori") or "").strip() or str(recipient.get("name") or "").strip()
    return token_decrypt(
        store=keys,
        token=token,
        recipient_key=f"{recipient_type}:{ident.upper()}",
        purpose=purpose,
        path=field,
    )


@dataclass(frozen=True, slots=True)
class PolicyTestResult:
    """Outcome of one case in a ``*_test.yaml`` file."""

    source: str
    name: str
    passed: bool
    message: str


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base.get(key), value)
        return merged
    return copy.deepcopy(override)


def _case_request(defaults: dict[str, Any], case: dict[str, Any]) -> dict[str, Any]:
    request: dict[str, Any] = _merge(copy.deepcopy(defaults), case.get("request") or {})
    for key in case.get("remove") or []:
        request.pop(key, None)
    return request


def _check(decision: Decision, expect: Mapping[str, Any]) -> list[str]:
    """Compare a decision with a case's expectations; return what did not match."""
    failures = []
    if "effect" in expect and str(decision.effect) != expect["effect"]:
        got = [f"{r.rule}/{r.code}" for r in decision.reasons]
        failures.append(f"effect {decision.effect}, expected {expect['effect']} (reasons {got})")
    seen = {r.rule for r in decision.reasons} | {str(r.code) for r in decision.reasons}
    missing = [item for item in expect.get("reasons", []) if item not in seen]
    if missing:
        failures.append(f"missing reasons {missing}; got {sorted(seen)}")
    unexpected = [item for item in expect.get("absent_reasons", []) if item in seen]
    if unexpected:
        failures.append(f"unexpected reasons {unexpected}")
    for name, count in (expect.get("excluded") or {}).items():
        if decision.excluded.get(name, 0) != count:
            failures.append(
                f"excluded[{name}] = {decision.excluded.get(name, 0)}, expected {count}"
            )
    if "released" in expect and len(decision.released) != expect["released"]:
        failures.append(f"{len(decision.released)} released, expected {expect['released']}")
    for path in expect.get("absent_fields", []):
        section, _, name = path.rpartition(".")
        for record in decision.released:
            holder = record.get(section, {}) if section else record
            if name in holder:
                failures.append(f"field {path} was released")
                break
    for label in expect.get("labels", []):
        if label not in decision.obligations.labels:
            failures.append(f"label {label!r} missing")
    return failures


def _run_file(path: Path, policy_set: PolicySet, keys: KeyStore) -> list[PolicyTestResult]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        defaults = data.get("defaults") or {}
        now_text = data.get("now")
        now = datetime.fromisoformat(str(now_text)) if now_text else None
        file_tags = data.get("field_tags")
        cases = data["cases"]
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError) as exc:
        return [PolicyTestResult(str(path), "(file)", False, f"unreadable test file: {exc}")]
    results = []
    for index, case in enumerate(cases):
        name = str(case.get("name") or f"case {index + 1}")
        decision = decide(
            request=_case_request(defaults, case),
            policy_set=policy_set,
            keys=keys,
            now=now,
            reviewed_by=case.get("reviewed_by"),
            field_tags=case.get("field_tags", file_tags),
            proxy_registered=case.get("proxy_registered") is True,
        )
        failures = _check(decision, case.get("expect") or {})
        results.append(PolicyTestResult(str(path), name, not failures, "; ".join(failures)))
    return results


def policy_tests_run(*, dirs: Sequence[Path]) -> list[PolicyTestResult]:
    """Run every ``*_test.yaml`` beside the policies (like ``opa test``) against the loaded set.

    Uses a throw-away random key: the cases check effects, reasons and shapes, never key values.
    """
    policy_set = policy_set_load(dirs=dirs)
    keys = KeyStore(current="test", keys={"test": secrets.token_bytes(32)})
    results: list[PolicyTestResult] = []
    for directory in dirs:
        if not directory.is_dir():
            continue
        for path in sorted(directory.iterdir()):
            if path.name.endswith(TEST_SUFFIXES):
                results += _run_file(path, policy_set, keys)
    return results


def document_refusal(*, kind: str, form: str = "") -> str:
    """The reason code a document kind (or form) is refused with as a basis for release, or "".

    For intake: an administrative paper (I-200 ... I-247N, detainer, administrative warrant or
    subpoena) is marked refused the moment it is filed, with the code the engine will give (IM-01).
    """
    if is_administrative({"kind": kind, "form": form}):
        return str(ReasonCode.DENY_ADMINISTRATIVE_WARRANT)
    return ""
