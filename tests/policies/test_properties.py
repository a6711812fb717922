"""Hypothesis properties over generated requests (issue 3 "Tests")."""

from __future__ import annotations

import copy
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from policies import rules
from policies.keys import KeyStore
from policies.model import PolicySet
from policies.services import decide, policy_set_load
from policies.transforms import plan_get
from policies.types import FIELD_KINDS, Effect, ReasonCode
from tests.policies.conftest import ADULT_RECORD, APPROVED_VENDOR, LIBRARY, POLICE_REQUEST

NOW = datetime(2026, 6, 1, tzinfo=UTC)
KEYS = KeyStore(current="k1", keys={"k1": secrets.token_bytes(32)})
PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
RECIPIENT_TYPES = [
    "county",
    "local_le",
    "state_le",
    "federal_le",
    "federal_immigration",
    "vendor",
    "court",
    "defense",
    "public",
    "unknown",
]
ADMIN_FORMS = {
    "I-200",
    "I-203",
    "I-205",
    "I-247",
    "I-247A",
    "I-247D",
    "I-247N",
    "I-286",
    "NCIC_IVF",
}


def _permissive_set(tmp: Path) -> PolicySet:
    """Library plus an approved vendor and a (hypothetical) DHS agreement: permits are reachable."""
    (tmp / "vendor.yaml").write_text(APPROVED_VENDOR)
    dhs = (LIBRARY / "courts.yaml").read_text()
    dhs = dhs.replace("id: courts", "id: dhs").replace("type: court", "type: federal_immigration")
    (tmp / "dhs.yaml").write_text(dhs.replace("modes: [single]", "modes: [single, batch]"))
    policy_set = policy_set_load(dirs=[LIBRARY, tmp])
    assert policy_set.valid, policy_set.problems
    return policy_set


@pytest.fixture(scope="module")
def permissive(tmp_path_factory: pytest.TempPathFactory) -> PolicySet:
    return _permissive_set(tmp_path_factory.mktemp("permissive"))


documents = st.lists(
    st.fixed_dictionaries(
        {
            "kind": st.sampled_from(
                [
                    "judicial_warrant",
                    "court_order",
                    "subpoena",
                    "administrative_warrant",
                    "detainer",
                    "other",
                    "bogus",
                ]
            ),
            "form": st.sampled_from([None, "", "I-200", "I-205", "I-247A", "i-247a", "AO 93"]),
            "signed_by_judge": st.sampled_from([True, False, None, "yes"]),
            "verified_by": st.lists(
                st.sampled_from(["ann", "ANN ", "bo", "cy", "", " "]), max_size=3
            ),
        }
    ),
    max_size=3,
)
purposes = st.sampled_from(
    [
        "investigation.violent-felony",
        "investigation.felony",
        "court.proceedings",
        "court.discovery",
        "missing-person",
        "vendor.algorithm-testing",
        "immigration.enforcement",
        "immigration.detainer",
        "immigration",
    ]
)
parties = st.one_of(
    st.none(),
    st.builds(
        lambda t, n: {"type": t, "name": n},
        st.sampled_from(RECIPIENT_TYPES),
        st.sampled_from(["Biometrica", "HSI", "MPD"]),
    ),
)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    request = copy.deepcopy(POLICE_REQUEST)
    request["recipient"] = {
        "type": draw(st.sampled_from(RECIPIENT_TYPES)),
        "name": draw(st.sampled_from(["Biometrica", "HSI Milwaukee", "MPD"])),
    }
    request["on_behalf_of"] = draw(parties)
    request["purpose"] = draw(purposes)
    request["documents"] = draw(documents)
    request["mode"] = draw(st.sampled_from(["single", "batch", "watchlist", "stream"]))
    request["narrative"] = draw(
        st.sampled_from(
            [POLICE_REQUEST["narrative"], "Locate for a pending court hearing next week."]
        )
    )
    return request


def _verified_judicial(docs: list[dict[str, Any]]) -> bool:
    """Independent oracle for IM-01 (written from the rule, not from the engine's code)."""
    for doc in docs:
        names = {n.strip().lower() for n in doc["verified_by"] if n.strip()}
        form = (doc["form"] or "").strip().upper()
        if (
            doc["kind"] in {"judicial_warrant", "court_order"}
            and doc["signed_by_judge"] is True
            and form not in ADMIN_FORMS
            and len(names) >= 2
        ):
            return True
    return False


@PROPERTY_SETTINGS
@given(request=requests())
def test_immigration_never_permitted_without_verified_judicial_authority(request, permissive):
    decision = decide(request=request, policy_set=permissive, keys=KEYS, now=NOW)
    involved = (
        request["recipient"]["type"] == "federal_immigration"
        or (request["on_behalf_of"] or {}).get("type") == "federal_immigration"
        or request["purpose"].startswith("immigration")
    )
    if involved and not _verified_judicial(request["documents"]):
        assert decision.effect is not Effect.PERMIT
    if request["purpose"].startswith("immigration"):
        assert decision.effect is Effect.DENY


def test_the_permissive_set_can_permit_dhs_with_a_verified_warrant(permissive) -> None:
    """Guards the property above against passing only because nothing is ever permitted."""
    request = copy.deepcopy(POLICE_REQUEST)
    request.update(
        recipient={"type": "federal_immigration", "name": "Field Office 7"},
        purpose="court.proceedings",
        documents=[{"kind": "court_order", "signed_by_judge": True, "verified_by": ["a", "b"]}],
    )
    assert decide(request=request, policy_set=permissive, keys=KEYS, now=NOW).permitted


flags = st.sampled_from([False, False, False, True, None, 0, "false"])


@st.composite
def records(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for index in range(draw(st.integers(min_value=0, max_value=8))):
        record = copy.deepcopy(ADULT_RECORD)
        record["booking_number"] = f"B{index}"
        if draw(st.booleans()):
            record["status"] = {
                name: draw(flags) for name in ("juvenile", "sealed", "expunged", "removed")
            }
            if draw(st.integers(min_value=0, max_value=9)) == 0:
                del record["status"][draw(st.sampled_from(sorted(record["status"])))]
        elif draw(st.integers(min_value=0, max_value=4)) == 0:
            del record["status"]
        out.append(record)
    return out


@PROPERTY_SETTINGS
@given(recs=records(), recipient=st.sampled_from(["local_le", "court"]))
def test_protected_records_never_released(recs, recipient, permissive):
    request = copy.deepcopy(POLICE_REQUEST)
    request["records"] = recs
    if recipient == "court":
        request.update(
            recipient={"type": "court", "name": "Circuit Court"}, purpose="court.proceedings"
        )
    decision = decide(request=request, policy_set=permissive, keys=KEYS, now=NOW)
    assert decision.effect is Effect.PERMIT
    clean = {
        r["booking_number"]
        for r in recs
        if isinstance(r.get("status"), dict)
        and all(
            r["status"].get(k, "missing") is False
            for k in ("juvenile", "sealed", "expunged", "removed")
        )
    }
    released = {r["booking_number"] for r in decision.released}
    assert released == clean
    assert sum(decision.excluded.values()) == len(recs) - len(clean)


def _paths(record: dict[str, Any]) -> set[str]:
    paths = set()
    for key, value in record.items():
        if key == "person":
            paths |= {f"person.{k}" for k in value}
        elif key == "charges":
            paths |= {f"charges.{k}" for charge in value for k in charge}
        else:
            paths.add(key)
    return paths


@PROPERTY_SETTINGS
@given(
    fields=st.one_of(
        st.none(), st.lists(st.sampled_from([*sorted(FIELD_KINDS), "person", "status"]))
    ),
    which=st.sampled_from(["police", "vendor", "court"]),
)
def test_released_fields_are_within_the_allow_list(fields, which, permissive):
    request = copy.deepcopy(POLICE_REQUEST)
    request["fields"] = fields
    if which == "vendor":
        request.update(
            recipient={"type": "vendor", "name": "Biometrica"}, purpose="vendor.algorithm-testing"
        )
    elif which == "court":
        request.update(
            recipient={"type": "court", "name": "Circuit Court"}, purpose="court.proceedings"
        )
    decision = decide(request=request, policy_set=permissive, keys=KEYS, now=NOW)
    agreement = next(
        a
        for a in permissive.agreements
        if a.recipient_type == request["recipient"]["type"]
        and any(item.covers(request["purpose"]) for item in a.purposes)
    )
    allow = {
        rule.path
        for item in agreement.purposes
        if item.covers(request["purpose"])
        for rule in item.fields
        if rule.op != "drop"
    }
    if fields == []:  # asks for nothing: malformed, never a release of empty records
        assert [r.code for r in decision.reasons] == [ReasonCode.DENY_REQUEST_MALFORMED]
        return
    if fields is not None and not any(p in fields or p.split(".")[0] in fields for p in allow):
        assert [r.code for r in decision.reasons] == [ReasonCode.DENY_NO_FIELDS_RELEASABLE]
        return
    assert decision.effect is Effect.PERMIT
    assert decision.obligations.agreement == agreement.id
    for record in decision.released:
        released = _paths(record)
        assert released <= allow
        assert released <= set(decision.obligations.fields)
        if fields is not None:
            assert all(p in fields or p.split(".")[0] in fields for p in released)


@PROPERTY_SETTINGS
@given(
    value=st.text(min_size=1, max_size=20).filter(lambda v: v.strip()),
    first=st.sampled_from(["A", "B", "C"]),
    second=st.sampled_from(["A", "B", "C"]),
)
def test_pseudonyms_agree_within_and_differ_across_recipients(value, first, second, permissive):
    agreement = next(a for a in permissive.agreements if a.id == "vendor-records-for-licences")
    record = dict(copy.deepcopy(ADULT_RECORD), booking_number=value)

    def pseudonym(vendor_name: str) -> str:
        # Only Biometrica is named in the agreement, so compile its plan for each vendor directly.
        plan = plan_get(
            rules=agreement.purposes[0].fields,
            store=KEYS,
            recipient_key=f"vendor:{vendor_name}",
            purpose="vendor.algorithm-testing",
        )
        return str(plan.apply(record)["booking_number"])

    if first == second:
        assert pseudonym(first) == pseudonym(second)
    else:
        assert pseudonym(first) != pseudonym(second)


TARGETS = [
    "request_view",
    "_guardrail_reasons",
    "_immigration_reasons",
    "_keyword_reason",
    "_forbid_reasons",
    "_find_agreement",
    "_agreement_reasons",
    "_legal_basis_reasons",
    "record_exclusion",
    "_effective_rules",
    "_obligations",
    "plan_get",
    "statute_key",
]


@PROPERTY_SETTINGS
@given(
    request=requests(),
    target=st.sampled_from(TARGETS),
    error=st.sampled_from([RuntimeError, KeyError, TypeError, ValueError, ZeroDivisionError]),
)
def test_any_injected_exception_yields_deny(request, target, error, permissive):
    """An exception raised anywhere on a request's path is a deny that releases nothing. A request
    that never reaches the target (one sent to review never compiles a plan) had nothing injected
    and says nothing either way; ``test_injection_reaches_the_evaluator`` shows each target is on
    the path of a permitted request."""
    with mock.patch.object(rules, target, side_effect=error("injected")) as injected:
        decision = decide(request=request, policy_set=permissive, keys=KEYS, now=NOW)
    assume(injected.called)
    assert decision.effect is Effect.DENY
    assert decision.reasons[0].code is ReasonCode.DENY_ENGINE_ERROR
    assert decision.released == ()


def test_injection_reaches_the_evaluator(permissive) -> None:
    """The injected functions really are on the path of a permitted request."""
    assert decide(request=POLICE_REQUEST, policy_set=permissive, keys=KEYS, now=NOW).permitted
    for target in TARGETS:
        with mock.patch.object(rules, target, side_effect=RuntimeError("x")):
            decision = decide(request=POLICE_REQUEST, policy_set=permissive, keys=KEYS, now=NOW)
        assert decision.reasons[0].code is ReasonCode.DENY_ENGINE_ERROR, target
