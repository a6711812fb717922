"""The single release path: load, decide, transform, audit, in one transaction, failing closed."""

from __future__ import annotations

import copy
import dataclasses
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from gateway.audit.models import AuditAction
from gateway.audit.services import case_ref, subject_ref
from gateway.models import AuditEntry, Booking, Charge, FieldSensitivity, Person, RecipientAccount
from gateway.releases import services as releases
from gateway.releases.selectors import booking_export
from gateway.releases.services import (
    ReleaseStatus,
    RevealRefusedError,
    release_records,
    release_token_reveal,
)
from policies.examples import EXAMPLE_POLICE_REQUEST
from policies.exceptions import PolicyErrorCode, TokenRevealError
from policies.services import key_file_create

pytestmark = pytest.mark.django_db
LIBRARY = Path(__file__).resolve().parents[3] / "policies" / "library"

# The shared worked example, without inline records: the release path loads them from the database.
POLICE: dict[str, Any] = {
    k: v for k, v in copy.deepcopy(EXAMPLE_POLICE_REQUEST).items() if k not in {"records", "fields"}
}
VENDOR: dict[str, Any] = {
    "recipient": {"type": "vendor", "name": "Biometrica"},
    "on_behalf_of": None,
    "purpose": "vendor.algorithm-testing",
    "mode": "batch",
    "documents": [],
}
APPROVED_VENDOR = (LIBRARY / "vendor-records-for-licences.yaml").read_text()
APPROVED_VENDOR = APPROVED_VENDOR.replace("status: draft", "status: active").replace(
    "approval_reference: null", 'approval_reference: "County Board Res. 26-001 (test)"'
)
COURTS_WITH_ENCRYPTION = (
    (LIBRARY / "courts.yaml").read_text().replace("person.ssn: mask:4", "person.ssn: encrypt")
)


@pytest.fixture(autouse=True)
def policy_settings(settings, tmp_path: Path) -> Path:
    county = tmp_path / "county"
    county.mkdir()
    (county / "vendor.yaml").write_text(APPROVED_VENDOR)
    (county / "courts.yaml").write_text(COURTS_WITH_ENCRYPTION)
    settings.POLICY_DIRS = [LIBRARY, county]
    settings.POLICY_KEYS_FILE = tmp_path / "keys.json"
    key_file_create(path=settings.POLICY_KEYS_FILE)
    return county


def _person(key: str, **fields: Any) -> Person:
    values = {
        "source": "test",
        "source_key": key,
        "first_name": "Jordan",
        "last_name": "Doe",
        "date_of_birth": date(1990, 5, 17),
        "age": 35,
        "sex": "M",
        "race": "W",
        "address": "123 Main St",
        "zip_code": "53202",
        "state_id": f"WI{key}",
        "ssn": "123-45-6789",
        **fields,
    }
    return Person.objects.create(**values)


def _booking(
    number: str, person: Person, *, disposition: str = "convicted", **fields: Any
) -> Booking:
    booking = Booking.objects.create(
        person=person,
        source="test",
        source_key=number,
        booking_number=number,
        booked_at=datetime(2026, 5, 4, 15, 15, tzinfo=UTC),
        booking_agency="MCSO",
        housing="CJF 4A",
        **fields,
    )
    Charge.objects.create(
        booking=booking,
        sequence=1,
        statute="943.32(1)(a)",
        description="Robbery",
        level="felony",
        disposition=disposition,
        bond_amount=Decimal("5000.00"),
    )
    return booking


@pytest.fixture
def bookings() -> dict[str, Booking]:
    adult = _person("1")
    return {
        "public": _booking("B1", adult),
        "sealed": _booking("B2", adult, sealed_order="2025CV77"),
        "juvenile": _booking("B3", _person("2", date_of_birth=date(2012, 1, 1)), juvenile=True),
        "expunged": _booking("B4", adult, expunged_on=date(2025, 1, 1)),
        "removed": _booking("B5", adult, removal_order="165.84 request 12"),
        "dismissed": _booking("B6", _person("3"), disposition="dismissed"),
    }


def test_export_shape_and_query_budget(bookings, django_assert_max_num_queries) -> None:
    with django_assert_max_num_queries(2):
        records = booking_export(booking_numbers=["B1", "B2", "B6", "nope"])
    assert [r["booking_number"] for r in records] == ["B1", "B2", "B6"]
    first = records[0]
    assert first["booked_at"] == "2026-05-04T15:15:00+00:00"
    assert first["person"]["date_of_birth"] == "1990-05-17"
    assert first["person"]["zip"] == "53202"
    assert first["person"]["middle_name"] is None
    assert first["charges"] == [
        {
            "statute": "943.32(1)(a)",
            "description": "Robbery",
            "level": "felony",
            "disposition": "convicted",
            "bond_amount": "5000.00",
        }
    ]
    assert first["status"] == {
        "juvenile": False,
        "sealed": False,
        "expunged": False,
        "removed": False,
    }
    assert records[1]["status"]["sealed"] is True


def test_permitted_release_is_transformed_and_audited(bookings) -> None:
    result = release_records(
        request=POLICE, booking_numbers=["B1"], requested_by="det.smith", reviewed_by="clerk.jones"
    )
    assert result.status is ReleaseStatus.RELEASED
    [record] = result.records
    assert record["booking_number"] == "B1"
    assert "ssn" not in record["person"]
    assert "status" not in record
    assert record["person"]["address"] == "[REDACTED]"
    assert "INVESTIGATIVE LEAD ONLY – NOT PROBABLE CAUSE" in result.labels
    entry = AuditEntry.objects.get(public_id=result.release_id)
    assert entry.effect == "permit"
    assert entry.actor == "det.smith"
    assert entry.recipient_type == "local_le"
    assert entry.purpose == "investigation.violent-felony"
    assert entry.case_ref == case_ref("MPD-2026-00417")
    assert entry.requested_count == 1
    assert entry.released_count == 1
    assert "person.ssn" not in entry.released_fields
    assert entry.obligations["reviewed_by"] == "clerk.jones"
    assert entry.policy_version.startswith("sha256:")
    assert entry.reasons[0]["rule"] == "CJ-07"


def test_release_query_budget_and_bare_string(bookings, django_assert_max_num_queries) -> None:
    numbers = [b.booking_number for b in bookings.values()]
    # 2 export queries, savepoints, 1 audit insert, and 2 for the registry standing pre-check
    with django_assert_max_num_queries(10):
        release_records(
            request=POLICE, booking_numbers=numbers, requested_by="det", reviewed_by="clerk"
        )
    single = release_records(
        request=POLICE, booking_numbers="B1", requested_by="det", reviewed_by="clerk"
    )
    assert [r["booking_number"] for r in single.records] == ["B1"]


def test_inline_records_from_the_requester_are_ignored(bookings) -> None:
    forged = {
        "booking_number": "B9",
        "person": {},
        "status": dict.fromkeys(("juvenile", "sealed", "expunged", "removed"), False),
    }
    request = {**POLICE, "records": [forged]}
    result = release_records(
        request=request, booking_numbers=["B1"], requested_by="det.smith", reviewed_by="clerk"
    )
    assert [r["booking_number"] for r in result.records] == ["B1"]


def test_protected_and_missing_bookings_look_the_same(bookings) -> None:
    answers = {}
    for name in ("sealed", "juvenile", "expunged", "removed"):
        number = bookings[name].booking_number
        answers[name] = release_records(
            request=POLICE, booking_numbers=[number], requested_by="det", reviewed_by="clerk"
        )
    answers["missing"] = release_records(
        request=POLICE, booking_numbers=["B404"], requested_by="det", reviewed_by="clerk"
    )
    denied = {**POLICE, "mode": "watchlist"}
    answers["denied"] = release_records(
        request=denied, booking_numbers=["B1"], requested_by="det", reviewed_by="clerk"
    )
    shapes = {name: {**a.as_dict(), "release_id": None} for name, a in answers.items()}
    assert all(a.status is ReleaseStatus.NOT_AVAILABLE for a in answers.values())
    assert len({repr(shape) for shape in shapes.values()}) == 1
    # The audit log keeps the true reasons.
    sealed = AuditEntry.objects.get(public_id=answers["sealed"].release_id)
    assert sealed.excluded == {"sealed": 1}
    missing = AuditEntry.objects.get(public_id=answers["missing"].release_id)
    assert missing.excluded == {"not_found": 1}
    assert AuditEntry.objects.get(public_id=answers["denied"].release_id).effect == "deny"


def test_mixed_request_releases_only_the_public_booking(bookings) -> None:
    numbers = [b.booking_number for b in bookings.values()]
    result = release_records(
        request=POLICE, booking_numbers=numbers, requested_by="det", reviewed_by="clerk"
    )
    assert [r["booking_number"] for r in result.records] == ["B1", "B6"]
    entry = AuditEntry.objects.get(public_id=result.release_id)
    assert entry.excluded == {"sealed": 1, "juvenile": 1, "expunged": 1, "removed": 1}
    assert entry.subject_refs == [subject_ref(kind="booking", value=n) for n in numbers]
    # No booking number is kept in clear anywhere in the entry (issue 8: one audit writer).
    stored = json.dumps(AuditEntry.objects.filter(pk=entry.pk).values().get(), default=str)
    assert not any(number in stored for number in numbers)


def test_immigration_request_is_denied_and_audited(bookings) -> None:
    request = {
        **POLICE,
        "recipient": {"type": "federal_immigration", "name": "ICE ERO Chicago"},
        "documents": [{"kind": "detainer", "form": "I-247A", "verified_by": ["a", "b"]}],
    }
    result = release_records(request=request, booking_numbers=["B1"], requested_by="x")
    assert result.status is ReleaseStatus.NOT_AVAILABLE
    entry = AuditEntry.objects.get(public_id=result.release_id)
    assert entry.effect == "deny"
    assert {r["code"] for r in entry.reasons} >= {
        "DENY_ADMINISTRATIVE_WARRANT",
        "DENY_IMMIGRATION_NO_JUDICIAL_AUTHORITY",
    }
    assert entry.released_count == 0


def test_human_review_obligation_needs_a_second_person(bookings) -> None:
    alone = release_records(request=POLICE, booking_numbers=["B1"], requested_by="det")
    self_reviewed = release_records(
        request=POLICE, booking_numbers=["B1"], requested_by="det", reviewed_by=" DET "
    )
    assert alone.status is ReleaseStatus.PENDING_REVIEW
    assert self_reviewed.status is ReleaseStatus.PENDING_REVIEW
    assert alone.records == ()
    assert AuditEntry.objects.get(public_id=alone.release_id).effect == "review"


def test_keyword_flag_needs_a_reviewer_other_than_the_requester(bookings) -> None:
    flagged = {**POLICE, "narrative": POLICE["narrative"] + " Detainer lodged by ICE."}
    pending = release_records(
        request=flagged, booking_numbers=["B1"], requested_by="det", reviewed_by="det"
    )
    assert pending.status is ReleaseStatus.PENDING_REVIEW
    assert AuditEntry.objects.get(public_id=pending.release_id).reasons[0]["flags"] == [
        "immigration_keyword"
    ]
    cleared = release_records(
        request=flagged, booking_numbers=["B1"], requested_by="det", reviewed_by="compliance"
    )
    assert cleared.status is ReleaseStatus.RELEASED
    entry = AuditEntry.objects.get(public_id=cleared.release_id)
    assert entry.obligations["reviewed_by"] == "compliance"
    assert [r["code"] for r in entry.reasons] == ["REVIEW_IMMIGRATION_KEYWORD", "PERMIT_AGREEMENT"]


def test_vendor_gets_pseudonyms_and_no_non_conviction_records(bookings) -> None:
    result = release_records(request=VENDOR, booking_numbers=["B1", "B6"], requested_by="liaison")
    assert result.status is ReleaseStatus.RELEASED
    [record] = result.records
    assert record["booking_number"].startswith("k1:")
    assert record["person"]["date_of_birth"] == "1990"
    assert "last_name" not in record["person"]
    again = release_records(request=VENDOR, booking_numbers=["B1"], requested_by="liaison")
    assert again.records[0]["booking_number"] == record["booking_number"]
    entry = AuditEntry.objects.get(public_id=result.release_id)
    assert entry.excluded == {"non_conviction": 1}


def test_any_exception_denies_and_is_audited(bookings, monkeypatch) -> None:
    def broken(**kwargs: Any) -> list[dict[str, Any]]:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(releases, "booking_export", broken)
    result = release_records(
        request=POLICE, booking_numbers=["B1"], requested_by="det", reviewed_by="clerk"
    )
    assert result.status is ReleaseStatus.NOT_AVAILABLE
    entry = AuditEntry.objects.get(public_id=result.release_id)
    assert entry.effect == "deny"
    assert entry.error_code == "RuntimeError"


def test_missing_key_file_denies(bookings, settings, tmp_path: Path) -> None:
    settings.POLICY_KEYS_FILE = tmp_path / "absent.json"
    result = release_records(
        request=POLICE, booking_numbers=["B1"], requested_by="det", reviewed_by="clerk"
    )
    assert result.status is ReleaseStatus.NOT_AVAILABLE
    entry = AuditEntry.objects.get(public_id=result.release_id)
    assert entry.reasons[0]["code"] == "DENY_KEY_MISSING"


def test_invalid_policies_deny(bookings, policy_settings: Path) -> None:
    (policy_settings / "broken.yaml").write_text("kind: agreement\nid: broken\n")
    result = release_records(
        request=POLICE, booking_numbers=["B1"], requested_by="det", reviewed_by="clerk"
    )
    assert result.status is ReleaseStatus.NOT_AVAILABLE
    assert (
        AuditEntry.objects.get(public_id=result.release_id).reasons[0]["code"]
        == "DENY_POLICY_INVALID"
    )


def test_malformed_request_is_denied_not_crashed(bookings) -> None:
    result = release_records(
        request={"recipient": "nope"}, booking_numbers=["B1"], requested_by="x"
    )
    assert result.status is ReleaseStatus.NOT_AVAILABLE
    assert AuditEntry.objects.get(public_id=result.release_id).effect == "deny"


def test_too_many_bookings_are_denied_unread(monkeypatch) -> None:
    monkeypatch.setattr(releases, "MAX_BOOKINGS_PER_RELEASE", 3)
    result = release_records(request=POLICE, booking_numbers=["a", "b", "c", "d"], requested_by="x")
    entry = AuditEntry.objects.get(public_id=result.release_id)
    assert entry.error_code == "ValueError"
    assert result.status is ReleaseStatus.NOT_AVAILABLE


def test_encrypted_token_reveal_needs_two_other_people(bookings) -> None:
    court = {
        "recipient": {
            "type": "court",
            "name": "Milwaukee County Circuit Court",
            "ori": "WI040013J",
        },
        "on_behalf_of": None,
        "purpose": "court.proceedings",
        "case_number": "2026CF001234",
        "mode": "single",
    }
    result = release_records(request=court, booking_numbers=["B1"], requested_by="clerk.court")
    token = result.records[0]["person"]["ssn"]
    assert token.startswith("enc:k1:")
    account = _court_account(court["recipient"])
    args = {
        "token": token,
        "request": court,
        "field_path": "person.ssn",
        "requested_by": "analyst",
    }
    with pytest.raises(TokenRevealError) as caught:
        release_token_reveal(approvers=["boss", "boss"], **args)
    assert caught.value.code is PolicyErrorCode.TWO_PERSON_APPROVAL_REQUIRED
    with pytest.raises(TokenRevealError):
        release_token_reveal(approvers=["analyst", "boss"], **args)
    assert release_token_reveal(approvers=["boss", "auditor"], **args) == "123-45-6789"
    reveals = AuditEntry.objects.filter(action="token_reveal").order_by("id")
    assert [e.effect for e in reveals] == ["deny", "deny", "permit"]
    # Issue 8.5: a reveal decides again, so a recipient suspended since the token was issued gets none.
    account.active = False
    account.save()
    with pytest.raises(RevealRefusedError):
        release_token_reveal(approvers=["boss", "auditor"], **args)
    assert AuditEntry.objects.filter(action="token_reveal").latest("id").error_code == (
        "reveal_refused"
    )


def _court_account(recipient: Any) -> RecipientAccount:
    user = User.objects.create_user(username="court.api")
    return RecipientAccount.objects.create(
        user=user, recipient_type=recipient["type"], name=recipient["name"], ori=recipient["ori"]
    )


def test_a_reveal_whose_purpose_the_policy_no_longer_permits_is_refused(policy_settings) -> None:
    court = {
        "recipient": {
            "type": "court",
            "name": "Milwaukee County Circuit Court",
            "ori": "WI040013J",
        },
        "on_behalf_of": None,
        "purpose": "vendor.algorithm-testing",  # not a purpose the court agreement names
        "case_number": "2026CF001234",
        "mode": "single",
    }
    _court_account(court["recipient"])
    with pytest.raises(RevealRefusedError):
        release_token_reveal(
            token="enc:k1:AAAA",
            request=court,
            field_path="person.ssn",
            approvers=["boss", "auditor"],
            requested_by="analyst",
        )
    entry = AuditEntry.objects.get(action="token_reveal")
    assert (entry.effect, entry.error_code) == ("deny", "reveal_refused")
    assert entry.reasons  # the policy's reasons are kept for compliance


# --- Field sensitivity tags drive the decision (issue 2: "policies will be written against the tags").
#
# No shipped agreement permits a request that involves immigration enforcement (no agreement names
# federal_immigration as recipient or allows it on_behalf_of, and immigration paperwork or purposes
# always deny). A county could still sign one for criminal court matters under a verified judicial
# warrant, so these tests add such a county agreement (a copy of the courts template).

DHS_COURT_MATTERS = (
    (LIBRARY / "courts.yaml")
    .read_text()
    .replace("id: courts", "id: dhs-court-matters")
    .replace("type: court", "type: federal_immigration")
)
WARRANT = {"kind": "judicial_warrant", "signed_by_judge": True, "verified_by": ["ann", "bo"]}
DHS: dict[str, Any] = {
    "recipient": {"type": "federal_immigration", "name": "Field Office 7"},
    "on_behalf_of": None,
    "purpose": "court.proceedings",
    "case_number": "2026CF001234",
    "mode": "single",
    "documents": [WARRANT],
}
COURT: dict[str, Any] = {**DHS, "recipient": {"type": "court", "name": "Circuit Court"}}


@pytest.fixture
def dhs_agreement(policy_settings: Path) -> None:
    (policy_settings / "dhs.yaml").write_text(DHS_COURT_MATTERS)


def _tag(field: str, *, add: str = "", remove: str = "") -> None:
    row = FieldSensitivity.objects.get(field=field)
    row.tags = [t for t in row.tags if t != remove] + ([add] if add else [])
    row.save()


def test_a_county_tag_takes_a_field_out_of_an_immigration_involved_release(
    bookings, dhs_agreement
) -> None:
    before = release_records(request=DHS, booking_numbers=["B1"], requested_by="clerk")
    assert before.status is ReleaseStatus.RELEASED
    assert before.records[0]["charges"][0]["bond_amount"] == "5000.00"
    _tag("charges.bond_amount", add="immigration_sensitive")
    after = release_records(request=DHS, booking_numbers=["B1"], requested_by="clerk")
    assert after.status is ReleaseStatus.RELEASED
    assert "bond_amount" not in after.records[0]["charges"][0]
    assert (
        "charges.bond_amount"
        not in AuditEntry.objects.get(public_id=after.release_id).released_fields
    )
    # The tag is about immigration: a court, not involved in it, still gets the bond.
    court = release_records(request=COURT, booking_numbers=["B1"], requested_by="clerk")
    assert court.records[0]["charges"][0]["bond_amount"] == "5000.00"


def test_the_requester_cannot_untag_a_field(bookings, dhs_agreement) -> None:
    _tag("charges.bond_amount", add="immigration_sensitive")
    forged = {**DHS, "field_tags": {"charges.bond_amount": []}}
    result = release_records(request=forged, booking_numbers=["B1"], requested_by="clerk")
    assert result.status is ReleaseStatus.RELEASED
    assert "bond_amount" not in result.records[0]["charges"][0]


def test_removing_a_tag_row_keeps_the_built_in_immigration_sensitive_set(
    bookings, dhs_agreement
) -> None:
    FieldSensitivity.objects.filter(field__in=["person.address", "released_at"]).delete()
    _tag("custody_status", remove="immigration_sensitive")
    result = release_records(request=DHS, booking_numbers=["B1"], requested_by="clerk")
    assert result.status is ReleaseStatus.RELEASED
    record = result.records[0]
    assert "address" not in record["person"]
    assert "released_at" not in record
    assert "custody_status" not in record
    court = release_records(request=COURT, booking_numbers=["B1"], requested_by="clerk")
    assert court.records[0]["person"]["address"] == "123 Main St"


def test_vendor_template_leaves_protected_traits_out_until_the_county_untags_them(
    bookings,
) -> None:
    result = release_records(request=VENDOR, booking_numbers=["B1"], requested_by="liaison")
    assert result.status is ReleaseStatus.RELEASED
    person = result.records[0]["person"]
    assert "race" not in person
    assert "sex" not in person
    assert person["date_of_birth"] == "1990"
    entry = AuditEntry.objects.get(public_id=result.release_id)
    assert not {"person.race", "person.sex"} & set(entry.released_fields)
    # The county decides race may go (the allow-list names it): only then does it leave.
    _tag("person.race", remove="protected_trait")
    again = release_records(request=VENDOR, booking_numbers=["B1"], requested_by="liaison")
    assert again.records[0]["person"]["race"] == "W"
    assert "sex" not in again.records[0]["person"]


def test_unreadable_tags_deny_and_are_audited(bookings) -> None:
    FieldSensitivity.objects.filter(field="person.race").update(tags={"protected_trait": False})
    result = release_records(
        request=POLICE, booking_numbers=["B1"], requested_by="det", reviewed_by="clerk"
    )
    assert result.status is ReleaseStatus.NOT_AVAILABLE
    assert AuditEntry.objects.get(public_id=result.release_id).error_code == "ValueError"


def test_a_permit_whose_records_are_all_empty_is_not_a_release(bookings) -> None:
    # Issue 8.1: asking only for fields the agreement withholds leaves empty records; nothing leaves.
    request = {**POLICE, "fields": ["person.ssn"]}
    result = release_records(
        request=request, booking_numbers=["B1"], requested_by="det", reviewed_by="clerk"
    )
    assert result.status is ReleaseStatus.NOT_AVAILABLE
    assert result.records == ()
    entry = AuditEntry.objects.get(public_id=result.release_id)
    assert (entry.effect, entry.released_count, entry.released_fields) == ("deny", 0, [])
    assert "DENY_NO_FIELDS_RELEASABLE" in {r["code"] for r in entry.reasons}


def test_the_release_path_hands_out_no_empty_permit_even_if_the_engine_gave_one(
    bookings, monkeypatch
) -> None:
    # Defence in depth for issue 8.1: should the engine ever permit records that are all empty,
    # the release path still answers not_available and audits why.
    real = releases.decide  # type: ignore[attr-defined]

    def empty_permit(**kwargs: Any) -> Any:
        decision = real(**kwargs)
        return dataclasses.replace(decision, released=tuple({} for _ in decision.released))

    monkeypatch.setattr(releases, "decide", empty_permit)
    result = release_records(
        request=POLICE, booking_numbers=["B1"], requested_by="det", reviewed_by="clerk"
    )
    assert result.status is ReleaseStatus.NOT_AVAILABLE
    entry = AuditEntry.objects.get(public_id=result.release_id)
    assert (entry.effect, entry.error_code, entry.released_count) == ("deny", "released_nothing", 0)


# --- Issue 8.8: a proxy named in free text; issue 8.9: guarded bookings counted as missing.

CIRCUIT_COURT: dict[str, Any] = {
    "recipient": {"type": "court", "name": "Milwaukee County Circuit Court", "ori": "WI040013J"},
    "on_behalf_of": None,
    "purpose": "court.proceedings",
    "case_number": "2026CF001234",
    "mode": "single",
}


@pytest.mark.parametrize(
    "name",
    [
        "Department of Homeland Security",
        "Dept. of Homeland Secur1ty",
        "U.S. Immigration & Customs Enforcement",
        "І.С.Е. Enforcement and Removal Operations",  # Cyrillic letters
        "ＵＳＣＩＳ",  # fullwidth
    ],
)
def test_a_court_asking_on_behalf_of_dhs_gets_nothing_whoever_reviews(bookings, name: str) -> None:
    request = {**CIRCUIT_COURT, "on_behalf_of": {"type": "court", "name": name}}
    result = release_records(
        request=request, booking_numbers=["B1"], requested_by="clerk.court", reviewed_by="judge"
    )
    assert result.status is ReleaseStatus.NOT_AVAILABLE
    assert result.records == ()
    entry = AuditEntry.objects.get(public_id=result.release_id)
    assert "DENY_IMMIGRATION_PROXY" in {r["code"] for r in entry.reasons}


def test_a_proxy_the_registry_does_not_know_goes_to_review_and_a_registered_one_does_not(
    bookings,
) -> None:
    patrol = {"type": "state_le", "name": "Wisconsin State Patrol", "ori": "WIWSP0000"}
    request = {**POLICE, "on_behalf_of": patrol}
    unknown = release_records(request=request, booking_numbers=["B1"], requested_by="det")
    assert unknown.status is ReleaseStatus.PENDING_REVIEW
    codes = {r["code"] for r in AuditEntry.objects.get(public_id=unknown.release_id).reasons}
    assert "REVIEW_PROXY_UNREGISTERED" in codes
    user = User.objects.create_user(username="wsp.api")
    RecipientAccount.objects.create(
        user=user, recipient_type="state_le", name="Wisconsin State Patrol", ori="WIWSP0000"
    )
    known = release_records(
        request=request, booking_numbers=["B1"], requested_by="det", reviewed_by="clerk"
    )
    codes = {r["code"] for r in AuditEntry.objects.get(public_id=known.release_id).reasons}
    assert "REVIEW_PROXY_UNREGISTERED" not in codes
    assert known.status is ReleaseStatus.RELEASED


@pytest.mark.parametrize("guarded", ["sealed_order", "expunged_order", "removal_order", "juvenile"])
def test_a_guarded_booking_weighs_exactly_like_a_missing_number(guarded: str) -> None:
    # Issue 8.9: the court may ask for 50; 50 released + 1 missing was released, 50 + 1 sealed was not.
    adult = _person("p")
    numbers = [_booking(f"C{i:02d}", adult).booking_number for i in range(50)]
    flag: dict[str, Any] = {guarded: True} if guarded == "juvenile" else {guarded: "2025CV1"}
    _booking("SEALED", adult, **flag)
    with_missing = release_records(
        request=CIRCUIT_COURT, booking_numbers=[*numbers, "NO-SUCH"], requested_by="clerk.court"
    )
    with_guarded = release_records(
        request=CIRCUIT_COURT, booking_numbers=[*numbers, "SEALED"], requested_by="clerk.court"
    )
    assert with_missing.status is ReleaseStatus.RELEASED
    assert {**with_missing.as_dict(), "release_id": None} == {
        **with_guarded.as_dict(),
        "release_id": None,
    }


def test_a_preview_shows_the_transformed_records_and_releases_nothing(bookings) -> None:
    """Issue 9: the clerk's preview is the same decision, audited as a preview, counting nothing."""
    preview = release_records(
        request=POLICE,
        booking_numbers=["B1", "B2"],
        requested_by="det",
        reviewed_by="clerk",
        preview=True,
    )
    real = release_records(
        request=POLICE, booking_numbers=["B1", "B2"], requested_by="det", reviewed_by="clerk"
    )
    assert preview.status is ReleaseStatus.RELEASED
    assert preview.records == real.records  # identical load, decide and transform
    entry = AuditEntry.objects.get(public_id=preview.release_id)
    assert entry.action == AuditAction.RELEASE_PREVIEW
    assert entry.released_count == 0
    assert entry.released_fields == []
    assert entry.obligations["previewed_count"] == 1
    assert entry.excluded == {"sealed": 1}
    real_entry = AuditEntry.objects.get(public_id=real.release_id)
    assert real_entry.action == AuditAction.RELEASE
    assert real_entry.released_count == 1
    assert "previewed_count" not in real_entry.obligations
    assert AuditEntry.objects.count() == 2


def test_a_preview_of_a_denied_request_is_audited_as_a_denied_preview(bookings) -> None:
    denied = {**POLICE, "purpose": "immigration.civil-enforcement"}
    preview = release_records(
        request=denied, booking_numbers=["B1"], requested_by="det", preview=True
    )
    assert preview.status is ReleaseStatus.NOT_AVAILABLE
    assert preview.records == ()
    entry = AuditEntry.objects.get(public_id=preview.release_id)
    assert (entry.action, entry.effect, entry.released_count) == ("release_preview", "deny", 0)
