"""What ``fields`` asks for: absent (or null) is the agreement's allow-list, ``[]`` is malformed,
and a permit never carries records with nothing in them (IM-09)."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from policies.keys import key_file_create
from policies.model import PolicySet
from policies.services import decide
from policies.types import Decision, Effect, ReasonCode
from tests.policies.conftest import ADULT_RECORD, LIBRARY, POLICE_REQUEST, request_with
from tests.policies.test_properties import KEYS, NOW


def _decide(request: dict[str, Any], policy_set: PolicySet) -> Decision:
    return decide(request=request, policy_set=policy_set, keys=KEYS, now=NOW)


def _without_fields() -> dict[str, Any]:
    request = request_with(POLICE_REQUEST)
    del request["fields"]
    return request


def test_absent_fields_is_the_allow_list(library_set: PolicySet) -> None:
    absent = _decide(_without_fields(), library_set)
    null = _decide(request_with(POLICE_REQUEST, fields=None), library_set)
    assert absent.permitted
    assert absent.released == null.released
    assert set(absent.obligations.fields) == {
        rule.path
        for agreement in library_set.agreements
        if agreement.id == "local-police"
        for item in agreement.purposes
        for rule in item.fields
        if rule.op != "drop"
    }
    assert absent.released[0]["person"]["last_name"] == "Doe"


def test_an_empty_field_list_is_malformed(library_set: PolicySet) -> None:
    decision = _decide(request_with(POLICE_REQUEST, fields=[]), library_set)
    assert decision.effect is Effect.DENY
    assert [r.code for r in decision.reasons] == [ReasonCode.DENY_REQUEST_MALFORMED]
    assert "leave it out" in decision.reasons[0].message
    assert decision.released == ()


@pytest.mark.parametrize("fields", [["status"], ["ssn", "person.ssn"], ["housing"]])
def test_fields_outside_the_allow_list_release_nothing(fields, library_set: PolicySet) -> None:
    """Not a permit of empty records: those would still confirm that the bookings exist."""
    decision = _decide(request_with(POLICE_REQUEST, fields=fields), library_set)
    assert decision.effect is Effect.DENY
    assert [r.code for r in decision.reasons] == [ReasonCode.DENY_NO_FIELDS_RELEASABLE]
    assert decision.reasons[0].rule == "IM-09"
    assert decision.released == ()


def test_records_left_empty_by_the_allow_list_are_not_a_permit(library_set: PolicySet) -> None:
    court = request_with(
        POLICE_REQUEST,
        recipient={"type": "court", "name": "Circuit Court"},
        purpose="court.proceedings",
        fields=["released_at"],
    )
    record = request_with(ADULT_RECORD)
    del record["released_at"]
    decision = _decide(request_with(court, records=[record]), library_set)
    assert [r.code for r in decision.reasons] == [ReasonCode.DENY_NO_FIELDS_RELEASABLE]
    assert decision.released == ()
    kept = _decide(request_with(court, records=[ADULT_RECORD]), library_set)
    assert kept.permitted
    assert kept.released == ({"released_at": None},)


def test_a_permit_without_records_stays_a_permit(library_set: PolicySet) -> None:
    """Nothing eligible is not "nothing releasable": the answer must not depend on the records."""
    decision = _decide(request_with(POLICE_REQUEST, records=[]), library_set)
    assert decision.permitted
    assert decision.released == ()


def test_explain_treats_absent_fields_as_decide_does(tmp_path: Path) -> None:
    keys_path = tmp_path / "keys.json"
    key_file_create(path=keys_path)
    request_file = tmp_path / "request.json"
    request_file.write_text(json.dumps(_without_fields()))
    out = StringIO()
    call_command(
        "policy",
        "explain",
        "--dir",
        str(LIBRARY),
        "--request",
        str(request_file),
        "--keys",
        str(keys_path),
        stdout=out,
    )
    body = json.loads(out.getvalue())
    assert body["effect"] == "permit"
    assert body["released"][0]["person"]["last_name"] == "Doe"
    request_file.write_text(json.dumps(request_with(POLICE_REQUEST, fields=[])))
    out = StringIO()
    call_command(
        "policy",
        "explain",
        "--dir",
        str(LIBRARY),
        "--request",
        str(request_file),
        "--keys",
        str(keys_path),
        stdout=out,
    )
    assert json.loads(out.getvalue())["reasons"][0]["code"] == "DENY_REQUEST_MALFORMED"


def test_an_empty_field_list_still_shows_the_immigration_gate(library_set: PolicySet) -> None:
    """The other reasons are still given, so an immigration request is still counted as one."""
    request = request_with(
        POLICE_REQUEST, fields=[], recipient={"type": "federal_immigration", "name": "ICE"}
    )
    codes = {r.code for r in _decide(request, library_set).reasons}
    assert {
        ReasonCode.DENY_REQUEST_MALFORMED,
        ReasonCode.DENY_IMMIGRATION_NO_JUDICIAL_AUTHORITY,
    } <= codes
