"""Decision semantics: the shipped table-driven cases, fail-closed behaviour, obligations, filtering."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from policies import rules
from policies.keys import KeyStore
from policies.services import decide, policy_set_load, policy_tests_run
from policies.types import Effect, ReasonCode
from tests.policies.conftest import (
    ADULT_RECORD,
    LIBRARY,
    POLICE_REQUEST,
    VENDOR_REQUEST,
    request_with,
)

NOW = datetime(2026, 6, 1, tzinfo=UTC)
_CASES = policy_tests_run(dirs=[LIBRARY])


def test_every_shipped_policy_has_a_test_file() -> None:
    policies = {p.stem for p in LIBRARY.glob("*.yaml") if not p.stem.endswith("_test")}
    tested = {Path(result.source).name.removesuffix("_test.yaml") for result in _CASES}
    assert policies == tested


@pytest.mark.parametrize("result", _CASES, ids=[f"{Path(r.source).stem}: {r.name}" for r in _CASES])
def test_shipped_policy_case(result) -> None:
    assert result.passed, result.message


def test_policy_test_runner_reports_a_wrong_expectation(tmp_path: Path) -> None:
    for path in LIBRARY.glob("*.yaml"):
        if not path.name.endswith("_test.yaml"):
            (tmp_path / path.name).write_text(path.read_text())
    (tmp_path / "wrong_test.yaml").write_text(
        "defaults: {purpose: nonsense}\ncases:\n  - name: w\n    expect: {effect: permit}\n"
    )
    results = policy_tests_run(dirs=[tmp_path])
    assert [r.passed for r in results] == [False]
    assert "expected permit" in results[0].message


def test_permit_releases_only_the_allow_list(library_set, keys: KeyStore) -> None:
    decision = decide(request=POLICE_REQUEST, policy_set=library_set, keys=keys, now=NOW)
    assert decision.effect is Effect.PERMIT
    released = decision.released[0]
    assert "ssn" not in released["person"]
    assert "status" not in released
    assert "housing" not in released
    assert released["person"]["address"] == "[REDACTED]"
    assert released["person"]["drivers_license"].endswith("1-23")
    assert "D123" not in released["person"]["drivers_license"]
    assert decision.obligations.human_review_required is True
    assert decision.obligations.max_records == 25
    assert decision.obligations.agreement == "local-police"
    assert decision.obligations.key_id == "k1"
    assert decision.policy_version == library_set.version


def test_decision_json_has_the_documented_keys(library_set, keys: KeyStore) -> None:
    body = decide(request=POLICE_REQUEST, policy_set=library_set, keys=keys, now=NOW).as_dict()
    assert set(body) >= {
        "effect",
        "reasons",
        "obligations",
        "excluded",
        "released",
        "policy_version",
    }
    assert set(body["reasons"][0]) >= {"rule", "message", "citation", "would_need", "code"}


@pytest.mark.parametrize(
    "request_",
    [
        None,
        "not a dict",
        {"recipient": "local_le"},
        request_with(POLICE_REQUEST, records="B1"),
        request_with(POLICE_REQUEST, documents=["warrant"]),
        request_with(POLICE_REQUEST, fields="person"),
        request_with(POLICE_REQUEST, on_behalf_of="self"),
        request_with(POLICE_REQUEST, mode="bulk"),
        request_with(POLICE_REQUEST, recipient={"type": "local_le"}),
    ],
)
def test_malformed_requests_are_denied(request_, library_set, keys: KeyStore) -> None:
    decision = decide(request=request_, policy_set=library_set, keys=keys, now=NOW)
    assert decision.effect is Effect.DENY
    assert decision.released == ()


def test_missing_key_store_denies(library_set) -> None:
    decision = decide(request=POLICE_REQUEST, policy_set=library_set, keys=None, now=NOW)
    assert decision.effect is Effect.DENY
    assert decision.reasons[0].code is ReasonCode.DENY_KEY_MISSING


def test_current_key_missing_from_store_denies(library_set) -> None:
    broken = KeyStore(current="k9", keys={"k1": b"x" * 32})
    decision = decide(request=POLICE_REQUEST, policy_set=library_set, keys=broken, now=NOW)
    assert decision.effect is Effect.DENY
    assert decision.reasons[0].code is ReasonCode.DENY_KEY_MISSING


@pytest.mark.parametrize(
    "target",
    [
        "_guardrail_reasons",
        "_find_agreement",
        "_legal_basis_reasons",
        "record_exclusion",
        "plan_get",
    ],
)
def test_an_exception_anywhere_is_a_deny(target, library_set, keys, monkeypatch) -> None:
    def boom(*args, **kwargs):
        raise RuntimeError("injected")

    monkeypatch.setattr(rules, target, boom)
    decision = decide(request=POLICE_REQUEST, policy_set=library_set, keys=keys, now=NOW)
    assert decision.effect is Effect.DENY
    assert decision.reasons[0].code is ReasonCode.DENY_ENGINE_ERROR
    assert decision.released == ()


def test_review_releases_nothing_and_flags(library_set, keys) -> None:
    request = request_with(POLICE_REQUEST, narrative="Robbery suspect; deportation officer asked.")
    request["narrative"] += " The clerk saw the suspect on video at the gas station."
    decision = decide(request=request, policy_set=library_set, keys=keys, now=NOW)
    assert decision.effect is Effect.REVIEW
    assert decision.flags == ("immigration_keyword",)
    assert decision.released == ()
    assert decision.obligations.human_review_required


def test_keyword_review_does_not_soften_a_deny(library_set, keys) -> None:
    request = request_with(POLICE_REQUEST, mode="watchlist", narrative="ICE detainer " * 5)
    decision = decide(request=request, policy_set=library_set, keys=keys, now=NOW)
    assert decision.effect is Effect.DENY
    assert "immigration_keyword" in decision.flags


def test_approved_vendor_gets_pseudonymised_minimal_records(county_set, keys) -> None:
    decision = decide(request=VENDOR_REQUEST, policy_set=county_set, keys=keys, now=NOW)
    assert decision.effect is Effect.PERMIT, decision.reasons
    record = decision.released[0]
    assert set(record) == {"booking_number", "booked_at", "booking_agency", "person", "charges"}
    assert record["booking_number"].startswith("k1:")
    assert record["booking_number"] != ADULT_RECORD["booking_number"]
    assert record["booked_at"] == "2026-05"
    assert record["person"] == {
        "date_of_birth": "1990",
        "age": "30-39",
        "sex": "M",
        "race": "W",
        "state_id": record["person"]["state_id"],
    }
    assert record["person"]["state_id"].startswith("k1:")


def test_vendor_never_gets_non_conviction_records(county_set, keys) -> None:
    dismissed = request_with(ADULT_RECORD, booking_number="B-dismissed")
    dismissed["charges"] = [{"statute": "943.20", "disposition": "dismissed"}]
    old_pending = request_with(
        ADULT_RECORD, booking_number="B-old", booked_at="2024-01-01T00:00:00"
    )
    old_pending["charges"] = [{"statute": "943.20", "disposition": "pending"}]
    new_pending = request_with(
        ADULT_RECORD, booking_number="B-new", booked_at="2026-05-01T00:00:00"
    )
    new_pending["charges"] = [{"statute": "943.20", "disposition": None}]
    request = request_with(
        VENDOR_REQUEST, records=[ADULT_RECORD, dismissed, old_pending, new_pending]
    )
    decision = decide(request=request, policy_set=county_set, keys=keys, now=NOW)
    assert decision.effect is Effect.PERMIT
    assert decision.excluded == {"non_conviction": 2}
    assert len(decision.released) == 2


def test_in_kind_consideration_is_refused(tmp_path, keys) -> None:
    from tests.policies.conftest import APPROVED_VENDOR

    (tmp_path / "vendor.yaml").write_text(
        APPROVED_VENDOR.replace("consideration: money", "consideration: in_kind_data")
    )
    policy_set = policy_set_load(dirs=[LIBRARY, tmp_path])
    decision = decide(request=VENDOR_REQUEST, policy_set=policy_set, keys=keys, now=NOW)
    assert decision.effect is Effect.DENY
    assert [r.rule for r in decision.reasons] == ["FR-13"]


def test_county_forbid_overrides_a_permit(tmp_path, keys) -> None:
    (tmp_path / "no-mpd.yaml").write_text(
        "kind: forbid\nid: suspend-mpd\nrule: GOV-05\ndescription: MPD access suspended\n"
        "would_need: The suspension would have had to be lifted.\n"
        "when: {recipient_names: [Milwaukee Police Department]}\n"
    )
    policy_set = policy_set_load(dirs=[LIBRARY, tmp_path])
    decision = decide(request=POLICE_REQUEST, policy_set=policy_set, keys=keys, now=NOW)
    assert decision.effect is Effect.DENY
    assert decision.reasons[0].code is ReasonCode.DENY_FORBIDDEN
    other = request_with(POLICE_REQUEST, recipient={"type": "local_le", "name": "Wauwatosa PD"})
    assert decide(request=other, policy_set=policy_set, keys=keys, now=NOW).permitted


def test_immigration_origin_requests_never_get_sensitive_fields(tmp_path, keys) -> None:
    """IM-05: even a hypothetical county agreement with DHS, under a verified warrant, drops them."""
    agreement = (LIBRARY / "courts.yaml").read_text()
    agreement = agreement.replace("id: courts", "id: dhs-criminal").replace(
        "type: court", "type: federal_immigration"
    )
    (tmp_path / "dhs.yaml").write_text(agreement)
    policy_set = policy_set_load(dirs=[LIBRARY, tmp_path])
    assert policy_set.valid, policy_set.problems
    warrant = {"kind": "judicial_warrant", "signed_by_judge": True, "verified_by": ["a", "b"]}
    request = request_with(
        POLICE_REQUEST,
        recipient={"type": "federal_immigration", "name": "Field Office 7"},
        purpose="court.proceedings",
        documents=[warrant],
    )
    decision = decide(request=request, policy_set=policy_set, keys=keys, now=NOW)
    assert decision.effect is Effect.PERMIT
    record = decision.released[0]
    assert "address" not in record["person"]
    assert "released_at" not in record
    assert "custody_status" not in record
    named = request_with(request, recipient={"type": "federal_immigration", "name": "HSI Chicago"})
    assert decide(request=named, policy_set=policy_set, keys=keys, now=NOW).effect is Effect.REVIEW
    request["documents"] = []
    assert decide(request=request, policy_set=policy_set, keys=keys, now=NOW).effect is Effect.DENY


@pytest.mark.parametrize(
    ("record_changes", "expected"),
    [
        ({"status": {"juvenile": False, "sealed": False, "expunged": False}}, "status_unknown"),
        (
            {"status": {"juvenile": None, "sealed": False, "expunged": False, "removed": False}},
            "juvenile",
        ),
        (
            {"status": {"juvenile": 0, "sealed": False, "expunged": False, "removed": False}},
            "juvenile",
        ),
        ({"booking_number": ""}, "malformed"),
        ({"person": None}, "malformed"),
        ({"person": {"age": 16}}, "juvenile"),
        (
            {"person": {"date_of_birth": "2009-06-01"}, "booked_at": "2026-05-31T00:00:00"},
            "juvenile",
        ),
        ({"person": {"date_of_birth": "2009-06-01"}, "booked_at": "2026-06-01T00:00:00"}, None),
    ],
)
def test_record_exclusion(record_changes, expected) -> None:
    record = request_with(ADULT_RECORD, **record_changes)
    assert rules.record_exclusion(record, now=NOW, exclude_non_conviction=False) == expected


def _with_purpose_line(line: str, tmp_path: Path) -> Path:
    for path in LIBRARY.glob("*.yaml"):
        if not path.name.endswith("_test.yaml"):
            (tmp_path / path.name).write_text(path.read_text())
    local = tmp_path / "local-police.yaml"
    local.write_text(
        local.read_text().replace("    human_review: true\n", f"    human_review: true\n{line}", 1)
    )
    return tmp_path


def test_approvers_required_is_one_under_review_and_zero_without(
    library_set, county_set, keys
) -> None:
    police = decide(request=POLICE_REQUEST, policy_set=library_set, keys=keys, now=NOW)
    assert police.obligations.approvers_required == 1
    assert police.obligations.as_dict()["approvers_required"] == 1
    vendor = decide(request=VENDOR_REQUEST, policy_set=county_set, keys=keys, now=NOW)
    assert vendor.effect is Effect.PERMIT
    assert vendor.obligations.approvers_required == 0


def test_a_purpose_can_ask_for_two_approvers(tmp_path: Path, keys) -> None:
    policy_set = policy_set_load(dirs=[_with_purpose_line("    approvers: 2\n", tmp_path)])
    assert policy_set.problems == ()
    decision = decide(request=POLICE_REQUEST, policy_set=policy_set, keys=keys, now=NOW)
    assert decision.effect is Effect.PERMIT
    assert decision.obligations.approvers_required == 2


@pytest.mark.parametrize("value", ["0", "3", "two"])
def test_approvers_out_of_range_is_a_policy_problem(value: str, tmp_path: Path) -> None:
    policy_set = policy_set_load(dirs=[_with_purpose_line(f"    approvers: {value}\n", tmp_path)])
    assert policy_set.problems
