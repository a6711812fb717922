"""The judicial path (IM-01) and administrative papers (IM-01 to IM-04): tables and properties."""

from __future__ import annotations

import copy
import secrets
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from policies.keys import KeyStore
from policies.model import PolicySet
from policies.rules import _find_agreement, order_scope, request_view
from policies.services import decide
from policies.types import CIVIL_IMMIGRATION_KINDS, DocumentKind, Effect, ReasonCode
from tests.policies.conftest import POLICE_REQUEST
from tests.policies.test_properties import (
    ADMIN_FORMS,
    PROPERTY_SETTINGS,
    RECIPIENT_TYPES,
    _permissive_set,
)

NOW = datetime(2026, 6, 1, tzinfo=UTC)
KEYS = KeyStore(current="k1", keys={"k1": secrets.token_bytes(32)})


@pytest.fixture(scope="module")
def permissive(tmp_path_factory: pytest.TempPathFactory) -> PolicySet:
    return _permissive_set(tmp_path_factory.mktemp("permissive"))


ORDER = {"kind": "court_order", "signed_by_judge": True, "verified_by": ["ann", "bo"]}


def _codes(decision: Any) -> set[str]:
    return {str(r.code) for r in decision.reasons}


def _request(**changes: Any) -> dict[str, Any]:
    request = copy.deepcopy(POLICE_REQUEST)
    request.update(copy.deepcopy(changes))
    return request


def _decide(policy_set: PolicySet, request: dict[str, Any], **kwargs: Any) -> Any:
    return decide(request=request, policy_set=policy_set, keys=KEYS, now=NOW, **kwargs)


def test_every_civil_immigration_form_is_a_kind() -> None:
    assert {k.upper() for k in CIVIL_IMMIGRATION_KINDS} == {
        "I-200",
        "I-203",
        "I-205",
        "I-286",
        "I-247A",
        "I-247D",
        "I-247N",
    }
    assert str(DocumentKind.ADMINISTRATIVE_SUBPOENA) == "administrative_subpoena"


@pytest.mark.parametrize("recipient_type", ["court", "vendor", "public", "defense", "county"])
def test_a_verified_order_without_an_agreement_goes_to_review_whatever_the_type(
    library_set: PolicySet, recipient_type: str
) -> None:
    """IM-01: no agreement covers this recipient and purpose, yet the order is not denied for it."""
    request = _request(
        recipient={"type": recipient_type, "name": "Nobody Registered"},
        purpose="investigation.felony"
        if recipient_type in ("court", "defense")
        else "court.discovery",
        documents=[ORDER],
    )
    assert _find_agreement(request_view(request), library_set) is None  # type: ignore[arg-type]
    decision = _decide(library_set, request, reviewed_by="compliance.officer")
    assert decision.effect is Effect.REVIEW, decision.reasons
    assert ReasonCode.REVIEW_COURT_ORDER in _codes(decision)
    assert ReasonCode.DENY_NO_AGREEMENT not in _codes(decision)
    assert decision.released == ()
    assert decision.obligations.human_review_required
    court = next(r for r in decision.reasons if r.code is ReasonCode.REVIEW_COURT_ORDER)
    assert court.rule == "IM-01"
    assert "court_order" in decision.flags


def test_without_the_order_the_same_request_is_denied_for_want_of_an_agreement(
    library_set: PolicySet,
) -> None:
    request = _request(
        recipient={"type": "vendor", "name": "Nobody Registered"}, purpose="court.discovery"
    )
    request["documents"] = [{**ORDER, "verified_by": ["ann"]}]  # one verifier is not enough
    decision = _decide(library_set, request)
    assert decision.effect is Effect.DENY
    assert ReasonCode.DENY_NO_AGREEMENT in _codes(decision)


def test_an_immigration_purpose_stays_refused_with_an_order(library_set: PolicySet) -> None:
    request = _request(
        recipient={"type": "federal_immigration", "name": "Field Office 7"},
        purpose="immigration.enforcement",
        documents=[ORDER],
    )
    decision = _decide(library_set, request)
    assert decision.effect is Effect.DENY
    assert ReasonCode.DENY_IMMIGRATION_PURPOSE in _codes(decision)
    assert ReasonCode.REVIEW_COURT_ORDER not in _codes(decision)


@pytest.mark.parametrize(
    "paper",
    [
        {"kind": "administrative_subpoena"},
        {"kind": "i-200"},
        {"kind": "i-247a"},
        {"kind": "other", "form": "I-286"},
        {"kind": "administrative_warrant", "form": "DOR-77"},
    ],
)
def test_an_administrative_paper_beside_an_order_still_denies(
    library_set: PolicySet, paper: dict[str, Any]
) -> None:
    request = _request(
        recipient={"type": "vendor", "name": "Nobody Registered"},
        purpose="court.discovery",
        documents=[ORDER, {**paper, "signed_by_judge": True, "verified_by": ["ann", "bo"]}],
    )
    decision = _decide(library_set, request, reviewed_by="compliance.officer")
    assert decision.effect is Effect.DENY
    assert ReasonCode.DENY_ADMINISTRATIVE_WARRANT in _codes(decision)
    assert not decision.overridable


def test_the_review_names_only_the_fields_the_order_names(library_set: PolicySet) -> None:
    order = {**ORDER, "names_fields": ["booking_number", "person", "not.a.field"]}
    request = _request(
        recipient={"type": "vendor", "name": "Nobody Registered"},
        purpose="court.discovery",
        documents=[order],
    )
    fields = _decide(library_set, request).obligations.fields
    assert "booking_number" in fields
    assert "person.last_name" in fields
    assert "charges.statute" not in fields
    assert set(fields.values()) == {"keep"}
    # An order that names no field leaves the choice to compliance: nothing is pre-listed.
    request["documents"] = [ORDER]
    assert _decide(library_set, request).obligations.fields == {}


def test_the_review_keeps_to_the_requested_fields_and_to_im05(library_set: PolicySet) -> None:
    order = {**ORDER, "names_fields": ["person"]}
    request = _request(
        recipient={"type": "federal_immigration", "name": "Field Office 7"},
        purpose="court.discovery",
        documents=[order],
        fields=["person.last_name", "person.address"],
    )
    decision = _decide(library_set, request)
    assert decision.effect is Effect.REVIEW
    assert set(decision.obligations.fields) == {"person.last_name"}  # address: IM-05


def test_an_order_naming_bookings_narrows_the_review_counts(library_set: PolicySet) -> None:
    order = {**ORDER, "names_bookings": ["B-OTHER"]}
    request = _request(
        recipient={"type": "vendor", "name": "Nobody Registered"},
        purpose="court.discovery",
        documents=[order],
    )
    decision = _decide(library_set, request)
    assert decision.effect is Effect.REVIEW
    assert decision.excluded == {"not_named_by_order": 1}
    assert "the bookings it names" in next(
        r.message for r in decision.reasons if r.code is ReasonCode.REVIEW_COURT_ORDER
    )


def test_an_order_narrows_a_permit_under_an_agreement(library_set: PolicySet) -> None:
    booking = POLICE_REQUEST["records"][0]["booking_number"]
    order = {
        "kind": "judicial_warrant",
        "signed_by_judge": True,
        "verified_by": ["ann", "bo"],
        "names_fields": ["booking_number"],
        "names_bookings": [booking],
    }
    request = _request(documents=[*POLICE_REQUEST.get("documents", []), order])
    decision = _decide(library_set, request)
    assert decision.effect is Effect.PERMIT, decision.reasons
    assert [set(r) for r in decision.released] == [{"booking_number"}]
    assert set(decision.obligations.fields) == {"booking_number"}
    # Naming only fields the agreement does not allow leaves nothing: refused, never widened.
    order["names_fields"] = ["person.ssn"]
    decision = _decide(library_set, _request(documents=[order]))
    assert ReasonCode.DENY_NO_FIELDS_RELEASABLE in _codes(decision)


@pytest.mark.parametrize(
    ("documents", "bookings", "fields"),
    [
        ([], None, None),
        ([ORDER], None, None),
        (
            [{**ORDER, "names_bookings": ["A"]}, {**ORDER, "names_bookings": ["B"]}],
            {"A", "B"},
            None,
        ),
        ([{**ORDER, "names_bookings": "A"}], set(), None),  # not a list: names nothing
        ([{**ORDER, "names_fields": [" x ", "", 3]}], None, {"x"}),
        ([{**ORDER, "verified_by": ["ann"], "names_bookings": ["A"]}], None, None),  # unverified
    ],
)
def test_order_scope(
    documents: list[dict[str, Any]], bookings: set[str] | None, fields: set[str] | None
) -> None:
    scope = order_scope(documents)
    assert scope.bookings == (None if bookings is None else frozenset(bookings))
    assert scope.fields == (None if fields is None else frozenset(fields))


ADMIN_KINDS = [
    "administrative_warrant",
    "detainer",
    "administrative_subpoena",
    *CIVIL_IMMIGRATION_KINDS,
]
any_document = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(
            ["judicial_warrant", "court_order", "subpoena", "other", *ADMIN_KINDS]
        ),
        "form": st.sampled_from([None, "", "AO 93", *sorted(ADMIN_FORMS)]),
        "signed_by_judge": st.sampled_from([True, False, None]),
        "verified_by": st.lists(st.sampled_from(["ann", "bo", "cy"]), max_size=3),
    }
)
administrative_document = st.one_of(
    st.builds(lambda d, kind: {**d, "kind": kind}, any_document, st.sampled_from(ADMIN_KINDS)),
    any_document.map(lambda d: {**d, "form": "I-205"}),
)


@st.composite
def requests_with(draw: st.DrawFn, required: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    docs = [*draw(st.lists(any_document, max_size=2)), draw(required)]
    return _request(
        recipient={
            "type": draw(st.sampled_from(RECIPIENT_TYPES)),
            "name": draw(st.sampled_from(["Biometrica", "MPD", "Nobody Registered"])),
        },
        purpose=draw(
            st.sampled_from(
                [
                    "investigation.violent-felony",
                    "court.proceedings",
                    "court.discovery",
                    "vendor.algorithm-testing",
                    "immigration.enforcement",
                ]
            )
        ),
        documents=draw(st.permutations(docs)),
        mode=draw(st.sampled_from(["single", "batch"])),
    )


@PROPERTY_SETTINGS
@given(
    request=requests_with(administrative_document),
    reviewer=st.sampled_from([None, "compliance.officer"]),
)
def test_no_administrative_paper_ever_produces_a_permit(request, reviewer, permissive) -> None:
    decision = _decide(permissive, request, reviewed_by=reviewer)
    assert decision.effect is Effect.DENY
    assert ReasonCode.DENY_ADMINISTRATIVE_WARRANT in _codes(decision)


@PROPERTY_SETTINGS
@given(
    request=requests_with(st.just(ORDER)),
    reviewer=st.sampled_from([None, "compliance.officer"]),
)
def test_a_verified_order_without_an_agreement_is_never_an_automatic_permit(
    request, reviewer, permissive
) -> None:
    view = request_view(request)
    assume(not isinstance(view, str) and _find_agreement(view, permissive) is None)
    decision = _decide(permissive, request, reviewed_by=reviewer)
    assert decision.effect is not Effect.PERMIT
    assert decision.released == ()
    assert ReasonCode.DENY_NO_AGREEMENT not in _codes(decision)
    if request["purpose"].startswith("immigration"):
        assert decision.effect is Effect.DENY
    if decision.effect is Effect.REVIEW:
        assert ReasonCode.REVIEW_COURT_ORDER in _codes(decision)


@pytest.mark.parametrize(
    ("kind", "form", "code"),
    [
        ("court_order", "", ""),
        ("i-203", "", "DENY_ADMINISTRATIVE_WARRANT"),
        ("administrative_subpoena", "", "DENY_ADMINISTRATIVE_WARRANT"),
        ("other", "i-247n", "DENY_ADMINISTRATIVE_WARRANT"),
    ],
)
def test_document_refusal_for_intake(kind: str, form: str, code: str) -> None:
    from policies.services import document_refusal

    assert document_refusal(kind=kind, form=form) == code
