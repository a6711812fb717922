"""Field operators, keyed pseudonyms, date shifts and two-person reversible encryption."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date

import pytest

from policies.exceptions import KeyStoreError, PolicyErrorCode, TokenRevealError
from policies.keys import KeyStore
from policies.services import token_reveal
from policies.transforms import REDACTED, FieldRule, TransformPlan, plan_compile
from policies.types import Op
from tests.policies.conftest import ADULT_RECORD, request_with


def _plan(
    rules: list[FieldRule],
    keys: KeyStore,
    recipient: str = "vendor:ACME",
    purpose: str = "vendor.algorithm-testing",
) -> TransformPlan:
    return plan_compile(rules=rules, store=keys, recipient_key=recipient, purpose=purpose)


def _rule(path: str, op: str, param: str | int | None = None) -> FieldRule:
    return FieldRule(path=path, op=Op(op), param=param)


@pytest.mark.parametrize(
    ("path", "op", "param", "value", "expected"),
    [
        ("person.date_of_birth", "generalize", "year", "1990-05-17", "1990"),
        ("booked_at", "generalize", "month", "2026-05-04T10:15:00-05:00", "2026-05"),
        ("person.age", "generalize", "band", 35, "30-39"),
        ("person.age", "generalize", "band:5", 37, "35-39"),
        ("person.age", "generalize", "band", "n/a", None),
        ("person.zip", "generalize", "zip3", "53202-1234", "532"),
        ("person.zip", "generalize", "zip3", "532", None),
        ("person.date_of_birth", "generalize", "year", "unknown", None),
        ("person.ssn", "mask", 4, "123-45-6789", "***-**-6789"),
        ("person.ssn", "mask", 2, "1", "*"),
        ("person.ssn", "redact", None, "123-45-6789", REDACTED),
        ("person.last_name", "keep", None, "Doe", "Doe"),
    ],
)
def test_simple_operators(path, op, param, value, expected, keys) -> None:
    section, _, name = path.rpartition(".")
    record = {"person": {name: value}} if section else {name: value}
    out = _plan([_rule(path, op, param)], keys).apply(record)
    got = out["person"][name] if section else out[name]
    assert got == expected


def test_unnamed_and_dropped_fields_never_appear(keys) -> None:
    plan = _plan([_rule("booking_number", "keep"), _rule("person.ssn", "drop")], keys)
    out = plan.apply(ADULT_RECORD)
    assert out == {"booking_number": ADULT_RECORD["booking_number"]}


def test_missing_optional_fields_are_tolerated(keys) -> None:
    plan = _plan([_rule("person.ssn", "pseudonym"), _rule("charges.level", "keep")], keys)
    assert plan.apply({"booking_number": "B1", "person": {}, "extra": 1}) == {"person": {}}
    assert plan.apply({"person": {"ssn": None}}) == {"person": {"ssn": None}}


def test_pseudonyms_agree_within_and_differ_across_recipients(keys) -> None:
    rules = [_rule("person.state_id", "pseudonym")]
    a1 = _plan(rules, keys, recipient="vendor:A").apply(ADULT_RECORD)["person"]["state_id"]
    a2 = _plan(rules, keys, recipient="vendor:A").apply(ADULT_RECORD)["person"]["state_id"]
    b = _plan(rules, keys, recipient="vendor:B").apply(ADULT_RECORD)["person"]["state_id"]
    other_purpose = _plan(rules, keys, recipient="vendor:A", purpose="x").apply(ADULT_RECORD)
    assert a1 == a2
    assert a1 != b
    assert a1 != other_purpose["person"]["state_id"]
    assert a1.startswith("k1:")


def test_pseudonym_is_not_an_unkeyed_hash(keys) -> None:
    token = _plan([_rule("person.ssn", "pseudonym")], keys).apply(ADULT_RECORD)["person"]["ssn"]
    digest = token.split(":", 1)[1]
    for candidate in (b"123-45-6789", b"person.ssn\x00123-45-6789"):
        assert hashlib.sha256(candidate).hexdigest()[:24] != digest
    other_key = KeyStore(current="k1", keys={"k1": secrets.token_bytes(32)})
    assert (
        _plan([_rule("person.ssn", "pseudonym")], other_key).apply(ADULT_RECORD)["person"]["ssn"]
        != token
    )


def test_pseudonym_domain_separates_fields(keys) -> None:
    rules = [_rule("person.state_id", "pseudonym"), _rule("person.fbi_number", "pseudonym")]
    out = _plan(rules, keys).apply({"person": {"state_id": "X1", "fbi_number": "X1"}})
    assert out["person"]["state_id"] != out["person"]["fbi_number"]


def test_date_shift_is_consistent_per_person_and_recipient(keys) -> None:
    rules = [_rule("booked_at", "date_shift", 30), _rule("person.date_of_birth", "date_shift", 30)]
    first = _plan(rules, keys).apply(ADULT_RECORD)
    second_booking = request_with(ADULT_RECORD, booked_at="2026-05-14T10:15:00-05:00")
    second = _plan(rules, keys, purpose="other").apply(second_booking)
    assert first["person"]["date_of_birth"] == second["person"]["date_of_birth"]
    shift = date.fromisoformat(first["person"]["date_of_birth"]) - date(1990, 5, 17)
    assert abs(shift.days) <= 30
    assert date.fromisoformat(first["booked_at"][:10]) - date(2026, 5, 4) == shift
    moved = date.fromisoformat(second["booked_at"][:10]) - date.fromisoformat(
        first["booked_at"][:10]
    )
    assert moved.days == 10  # intervals survive the shift
    shifts = {
        _plan(rules, keys, recipient=f"vendor:{n}").apply(ADULT_RECORD)["person"]["date_of_birth"]
        for n in range(8)
    }
    assert len(shifts) > 1


def test_encryption_is_deterministic_and_reversible_with_two_approvers(keys) -> None:
    plan = _plan([_rule("person.ssn", "encrypt")], keys, recipient="court:WI040013J", purpose="p")
    token = plan.apply(ADULT_RECORD)["person"]["ssn"]
    assert token == plan.apply(ADULT_RECORD)["person"]["ssn"]
    assert token.startswith("enc:k1:")
    recipient = {"type": "court", "ori": "WI040013J"}
    plain = token_reveal(
        token=token,
        recipient=recipient,
        purpose="p",
        field="person.ssn",
        approvers=["clerk", "officer"],
        keys=keys,
    )
    assert plain == ADULT_RECORD["person"]["ssn"]


@pytest.mark.parametrize("approvers", [[], ["clerk"], ["clerk", " CLERK "], ["clerk", ""]])
def test_reversal_needs_two_different_people(approvers, keys) -> None:
    token = _plan([_rule("person.ssn", "encrypt")], keys).apply(ADULT_RECORD)["person"]["ssn"]
    with pytest.raises(TokenRevealError) as caught:
        token_reveal(
            token=token,
            recipient={"type": "vendor", "name": "ACME"},
            purpose="vendor.algorithm-testing",
            field="person.ssn",
            approvers=approvers,
            keys=keys,
        )
    assert caught.value.code is PolicyErrorCode.TWO_PERSON_APPROVAL_REQUIRED


@pytest.mark.parametrize(
    ("recipient", "purpose", "field"),
    [
        ({"type": "vendor", "name": "OTHER"}, "vendor.algorithm-testing", "person.ssn"),
        ({"type": "vendor", "name": "ACME"}, "court.discovery", "person.ssn"),
        ({"type": "vendor", "name": "ACME"}, "vendor.algorithm-testing", "person.state_id"),
    ],
)
def test_tokens_are_bound_to_recipient_purpose_and_field(recipient, purpose, field, keys) -> None:
    token = _plan([_rule("person.ssn", "encrypt")], keys).apply(ADULT_RECORD)["person"]["ssn"]
    with pytest.raises(TokenRevealError) as caught:
        token_reveal(
            token=token,
            recipient=recipient,
            purpose=purpose,
            field=field,
            approvers=["a", "b"],
            keys=keys,
        )
    assert caught.value.code is PolicyErrorCode.TOKEN_INVALID


def test_rotation_keeps_old_tokens_reversible_and_missing_keys_fail() -> None:
    k1, k2 = secrets.token_bytes(32), secrets.token_bytes(32)
    old_store = KeyStore(current="k1", keys={"k1": k1})
    token = _plan([_rule("person.ssn", "encrypt")], old_store).apply(ADULT_RECORD)["person"]["ssn"]
    rotated = KeyStore(current="k2", keys={"k1": k1, "k2": k2})
    new_token = _plan([_rule("person.ssn", "encrypt")], rotated).apply(ADULT_RECORD)["person"][
        "ssn"
    ]
    assert new_token.startswith("enc:k2:")

    def reveal(token: str, store: KeyStore) -> str:
        return token_reveal(
            token=token,
            recipient={"type": "vendor", "name": "ACME"},
            purpose="vendor.algorithm-testing",
            field="person.ssn",
            approvers=["a", "b"],
            keys=store,
        )

    assert reveal(token, rotated) == "123-45-6789"
    with pytest.raises(KeyStoreError):
        reveal(token, KeyStore(current="k2", keys={"k2": k2}))
    with pytest.raises(TokenRevealError):
        reveal("k1:abcdef", rotated)


@pytest.mark.parametrize("value", ["WI1234567", " wi1234567 ", 12345, "ß-é"])
def test_pseudonym_is_hmac_sha256_of_field_and_value(value, keys) -> None:
    """The compiled shortcut must equal the textbook HMAC-SHA256 (RFC 2104) under the derived key."""
    import hmac

    token = _plan([_rule("person.state_id", "pseudonym")], keys).apply(
        {"person": {"state_id": value}}
    )
    derived = keys.derive(
        key_id="k1", use="pseudonym", context="vendor:ACME\x00vendor.algorithm-testing"
    )
    message = b"person.state_id\x00" + str(value).strip().upper().encode()
    assert token["person"]["state_id"] == "k1:" + hmac.digest(derived, message, "sha256")[:12].hex()


def test_long_keys_are_hashed_first_as_rfc_2104_says() -> None:
    import hmac

    from policies.transforms import _hmac_states

    key = b"k" * 100
    inner, outer = _hmac_states(key, b"p")
    inner.update(b"v")
    outer.update(inner.digest())
    assert outer.digest() == hmac.digest(key, b"pv", "sha256")
