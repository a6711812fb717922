"""The clerk's desk pages (issue 9): who may see them, approve and deny through them, refusals shown.

Requests come from the lifecycle's own fixtures (conftest.py: a police recipient, two clerks, a
compliance officer, bookings B1 and B7 usable and B2 sealed), so the pages run the real services.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from gateway.audit.models import AuditAction, AuditEntry
from gateway.models import RecipientOrganisation
from gateway.recipients.models import ImmigrationCertification
from gateway.recipients.roles import Role
from gateway.recipients.services import totp_device_create, user_create_with_role
from gateway.requests.models import ReleaseRequest, RequestSource, RequestState
from tests.gateway.requests.conftest import PASSWORD, police_needs_two_approvers, submit

pytestmark = pytest.mark.django_db


def _as(user: User | None) -> Client:
    """A client signed in as ``user`` with a verified second factor, as staff pages require."""
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
        device = TOTPDevice.objects.filter(user=user).first() or totp_device_create(user=user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def _page(user: User | None, req: ReleaseRequest) -> Any:
    return _as(user).get(f"/desk/requests/{req.public_id}/")


def _approve(client: Client, req: ReleaseRequest, **data: Any) -> Any:
    body = {"keep": req.booking_numbers, **data}
    return client.post(f"/desk/requests/{req.public_id}/approve/", body, follow=True)


def _deny(client: Client, req: ReleaseRequest, **data: Any) -> Any:
    body = {"reason_code": "no_legal_basis", "reason_text": "", **data}
    return client.post(f"/desk/requests/{req.public_id}/deny/", body, follow=True)


@pytest.fixture
def examiner(db: None) -> User:
    return user_create_with_role(username="exam", password=PASSWORD, role=Role.EXAMINER)


# --- who may come in ------------------------------------------------------------------------------


def test_anonymous_callers_are_sent_to_sign_in(bookings, detective) -> None:
    req = submit(detective)
    for url in (
        "/desk/requests/",
        f"/desk/requests/{req.public_id}/",
        "/desk/requests/new/",
        "/desk/lookup/",
    ):
        response = _as(None).get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/"), url
    response = _as(None).post(f"/desk/requests/{req.public_id}/approve/", {"keep": ["B1"]})
    assert response.status_code == 302
    assert ReleaseRequest.objects.get(pk=req.pk).state == RequestState.AWAITING_CLERK


def test_recipients_and_other_roles_are_told_nothing_is_there(
    bookings, detective, examiner
) -> None:
    req = submit(detective)
    for user in (detective, examiner):
        client = _as(user)
        for url in (
            "/desk/requests/",
            f"/desk/requests/{req.public_id}/",
            "/desk/requests/new/",
            "/desk/lookup/",
        ):
            assert client.get(url).status_code == 404, (user.username, url)
        approve = client.post(f"/desk/requests/{req.public_id}/approve/", {"keep": ["B1"]})
        deny = client.post(
            f"/desk/requests/{req.public_id}/deny/", {"reason_code": "no_legal_basis"}
        )
        assert (approve.status_code, deny.status_code) == (404, 404)
        lookup = client.post("/desk/lookup/", {"surname": "Doe", "given": "", "born": "1990-05-17"})
        assert lookup.status_code == 404
        assert b"B1" not in lookup.content
    assert ReleaseRequest.objects.get(pk=req.pk).state == RequestState.AWAITING_CLERK
    assert not AuditEntry.objects.filter(action=AuditAction.STAFF_LOOKUP).exists()


def test_a_missing_request_is_a_404_for_staff(clerk) -> None:
    assert _as(clerk).get("/desk/requests/req_nope/").status_code == 404


# --- the queue ------------------------------------------------------------------------------------


def test_the_queue_lists_requests_with_their_columns_and_filters(
    bookings, detective, clerk, compliance
) -> None:
    first = submit(detective)
    second = submit(detective, case_number="MPD-2026-99999")
    ReleaseRequest.objects.filter(pk=second.pk).update(
        created_at=timezone.now() - timedelta(days=10)
    )
    for user in (clerk, compliance):
        page = _as(user).get("/desk/requests/")
        assert page.status_code == 200
        text = page.content.decode()
        assert first.public_id in text
        assert second.public_id in text
        assert "Milwaukee Police Department" in text
        assert "investigation.violent-felony" in text
        assert "Awaiting a clerk" in text
        assert "API" in text
    old = _as(clerk).get("/desk/requests/", {"older_than": 5}).content.decode()
    assert second.public_id in old
    assert first.public_id not in old
    found = _as(clerk).get("/desk/requests/", {"q": "MPD-2026-99999"}).content.decode()
    assert second.public_id in found
    assert first.public_id not in found
    denied = _as(clerk).get("/desk/requests/", {"state": "denied"}).content.decode()
    assert first.public_id not in denied
    assert "No request matches" in denied
    odd = _as(clerk).get("/desk/requests/", {"older_than": "soon", "order": "ssn"})
    assert odd.status_code == 200  # a filter not understood is ignored, never a 500
    assert first.public_id in odd.content.decode()


def _bulk(user: User, count: int) -> None:
    now = timezone.now()
    ReleaseRequest.objects.bulk_create(
        ReleaseRequest(
            recipient_type="local_le",
            recipient_name="Milwaukee Police Department",
            requested_by=user,
            requested_by_username=user.username,
            purpose="investigation.violent-felony",
            case_number=f"C-{i}",
            booking_numbers=[f"B{i}"],
            state=RequestState.AWAITING_CLERK,
            expires_at=now + timedelta(days=14),
        )
        for i in range(count)
    )


def test_the_queue_page_of_ten_thousand_requests_takes_as_few_queries_as_of_three(
    detective, clerk, django_assert_max_num_queries, django_assert_num_queries
) -> None:
    """NetBox style: the budget is the count for a tiny queue, and 10,000 rows must not exceed it."""
    client = _as(clerk)
    _bulk(detective, 3)
    client.get("/desk/requests/")  # warm the session
    with django_assert_num_queries(QUEUE_QUERIES):
        assert client.get("/desk/requests/").status_code == 200
    _bulk(detective, 10_000 - 3)
    with django_assert_max_num_queries(QUEUE_QUERIES):
        page = client.get("/desk/requests/?state=awaiting_clerk&page=3")
    assert page.status_code == 200
    assert "10000 requests · page 3 of 200" in page.content.decode()
    assert page.content.decode().count('href="/desk/requests/req_') == 50


# Constant whatever the rows: session, user, second factor, the role checks of the header and the page
# (each staff role current? CJ-06), then count and page.
QUEUE_QUERIES = 22


# --- one request: what it shows -------------------------------------------------------------------


def test_the_request_page_shows_the_request_the_policy_and_the_preview(
    bookings, detective, clerk
) -> None:
    req = submit(detective, booking_numbers=["B1", "B2", "NOPE"])
    page = _page(clerk, req)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Milwaukee Police Department" in text
    assert "MPD-2026-00417" in text
    assert "Armed robbery of a gas station clerk" in text
    # The policy's reason, its rule id, citation and counterfactual.
    assert "CJ-07" in text
    assert "rules.md CJ-07, FR-09, FR-10" in text
    assert "Nothing; the request met the agreement and its legal basis." in text
    # The preview: B1 as the recipient would get it (address redacted), not the sealed B2.
    assert "<td>B1</td>" in text
    assert "[REDACTED]" in text
    assert "123 Main St" not in text
    assert "B2</td>" not in text
    assert "INVESTIGATIVE LEAD ONLY" in text
    # Withheld and why: one sealed, one not found (staff see the true counts).
    assert '<th scope="row">sealed</th><td class="num">1</td>' in text
    assert '<th scope="row">not_found</th><td class="num">1</td>' in text
    assert '<th scope="row">person.address</th><td>redact</td>' in text
    assert '<th scope="row">booked_at</th><td>keep</td>' not in text  # only the changes are listed
    # History, and the decide forms for a clerk.
    assert "awaiting_clerk" in text
    assert "policy_review" in text
    assert 'action="/desk/requests/' in text
    assert "csrfmiddlewaretoken" in text
    # Both looks are audited: the read by the clerk, and the preview the clerk reviewed.
    assert AuditEntry.objects.filter(action=AuditAction.REQUEST_VIEW, actor="clerk1").exists()
    req.refresh_from_db()
    preview = AuditEntry.objects.get(public_id=req.latest_preview_id)
    assert preview.action == AuditAction.RELEASE_PREVIEW
    assert preview.obligations["reviewed_by"] == "clerk1"


def test_a_denied_request_page_says_nothing_would_leave_and_why(detective, clerk) -> None:
    req = submit(detective, case_number="", offense_statute="")
    assert req.state == RequestState.DENIED
    text = _page(clerk, req).content.decode()
    assert "Nothing would be released." in text
    assert "DENY_" in text
    assert "What would have had to be true:" in text
    assert "Approve</button>" not in text  # nothing to decide any more


def test_compliance_reads_but_cannot_act(bookings, detective, compliance) -> None:
    req = submit(detective)
    client = _as(compliance)
    text = _page(compliance, req).content.decode()
    assert "Only a clerk can approve or deny" in text
    assert "Approve</button>" not in text
    answer = _approve(client, req).content.decode()
    assert "Only a clerk can approve or deny requests. (request_not_clerk)" in answer
    answer = _deny(client, req).content.decode()
    assert "(request_not_clerk)" in answer
    assert ReleaseRequest.objects.get(pk=req.pk).state == RequestState.AWAITING_CLERK


# --- approve and deny through the page ------------------------------------------------------------


def test_a_clerk_approves_through_the_page(bookings, detective, clerk) -> None:
    req = submit(detective)
    response = _approve(_as(clerk), req, reason_text="checked the case with MPD")
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == f"/desk/requests/{req.public_id}/"
    assert "Approved." in response.content.decode()
    req.refresh_from_db()
    assert req.state == RequestState.APPROVED
    assert req.approved_fields is None  # no field unticked: the agreement's list, unnarrowed
    step = req.transitions.get(to_state=RequestState.APPROVED)
    assert (step.actor_username, step.reason_text) == ("clerk1", "checked the case with MPD")


def test_an_approval_can_drop_bookings_and_fields(bookings, detective, clerk) -> None:
    req = submit(detective, booking_numbers=["B1", "B7"])
    offered = ["booked_at", "booking_number", "person.address", "person.last_name"]
    _approve(
        _as(clerk),
        req,
        keep=["B7"],
        keep_fields=["booking_number", "person.last_name"],
        offered_fields=offered,
    )
    req.refresh_from_db()
    assert req.state == RequestState.APPROVED
    assert req.approved_booking_numbers == ["B7"]
    assert req.approved_fields == ["booking_number", "person.last_name"]


def test_an_approval_cannot_add_a_booking(bookings, detective, clerk) -> None:
    req = submit(detective)
    answer = _approve(_as(clerk), req, keep=["B1", "B7"]).content.decode()
    assert "is not one of the available choices" in answer
    assert ReleaseRequest.objects.get(pk=req.pk).state == RequestState.AWAITING_CLERK


def test_unticking_every_booking_is_refused_on_the_page(bookings, detective, clerk) -> None:
    req = submit(detective)
    answer = _approve(_as(clerk), req, keep=[]).content.decode()
    assert "(request_widened)" in answer
    assert ReleaseRequest.objects.get(pk=req.pk).state == RequestState.AWAITING_CLERK


def test_a_clerk_denies_with_a_reason_code_and_text(bookings, detective, clerk) -> None:
    req = submit(detective)
    response = _deny(_as(clerk), req, reason_code="not_case_bound", reason_text="no suspect named")
    assert "Denied." in response.content.decode()
    req.refresh_from_db()
    assert req.state == RequestState.DENIED
    step = req.transitions.get(to_state=RequestState.DENIED)
    assert (step.reason_code, step.reason_text) == ("not_case_bound", "no suspect named")


def test_a_denial_needs_a_listed_reason_and_other_needs_text(bookings, detective, clerk) -> None:
    req = submit(detective)
    client = _as(clerk)
    answer = _deny(client, req, reason_code="because").content.decode()
    assert "Select a valid choice" in answer
    answer = _deny(client, req, reason_code="other").content.decode()
    assert "needs a sentence saying why" in answer
    assert ReleaseRequest.objects.get(pk=req.pk).state == RequestState.AWAITING_CLERK


def test_acting_on_a_decided_request_is_a_message_not_an_error(bookings, detective, clerk) -> None:
    req = submit(detective)
    client = _as(clerk)
    _deny(client, req)
    response = _approve(client, req)
    assert response.status_code == 200
    text = response.content.decode()
    assert "cannot take that step from its current state. (request_illegal_transition)" in text


def test_two_approvers_must_differ_on_the_page(
    policies, bookings, detective, clerk, clerk2
) -> None:
    police_needs_two_approvers(policies)
    req = submit(detective)
    first = _as(clerk)
    assert "2 approvals needed" in _page(clerk, req).content.decode()
    _approve(first, req)
    assert ReleaseRequest.objects.get(pk=req.pk).state == RequestState.AWAITING_SECOND_APPROVAL
    again = _approve(first, req).content.decode()
    assert "the second must come from a different clerk. (request_same_approver)" in again
    assert "refused: request_same_approver" in again  # the refused attempt is in the history
    _approve(_as(clerk2), req)
    assert ReleaseRequest.objects.get(pk=req.pk).state == RequestState.APPROVED


# --- phone and paper entry ------------------------------------------------------------------------


@pytest.fixture
def police_organisation(db: None) -> RecipientOrganisation:
    organisation = RecipientOrganisation.objects.create(
        recipient_type="local_le", name="Milwaukee Police Department", ori="WI0410200"
    )
    today = timezone.localdate()
    ImmigrationCertification.objects.create(
        organisation=organisation,
        signed_by="Chief",
        signed_on=today - timedelta(days=10),
        valid_until=today + timedelta(days=300),
        document_name="im03.pdf",
        document_sha256="0" * 64,
        recorded_by="admin",
    )
    return organisation


def _entry(organisation: RecipientOrganisation, **changes: Any) -> dict[str, Any]:
    return {
        "organisation": organisation.pk,
        "source": "clerk_phone",
        "purpose": "investigation.violent-felony",
        "case": "MPD-2026-00417",
        "statute": "943.32(1)(a)",
        "narrative": "Armed robbery of a gas station clerk on 3 May 2026; tattoo matches a booking.",
        "bookings": "B1, B7\nB1",
        **changes,
    }


def test_a_clerk_enters_a_phone_request_and_another_clerk_decides_it(
    bookings, police_organisation, clerk, clerk2
) -> None:
    form = _as(clerk).get("/desk/requests/new/").content.decode()
    assert "Milwaukee Police Department (local_le)" in form
    response = _as(clerk).post("/desk/requests/new/", _entry(police_organisation), follow=True)
    req = ReleaseRequest.objects.get()
    assert response.redirect_chain[-1][0] == f"/desk/requests/{req.public_id}/"
    assert (req.source, req.requested_by_username) == (RequestSource.CLERK_PHONE, "clerk1")
    assert req.as_recipient() == police_organisation.as_recipient()
    assert req.booking_numbers == ["B1", "B7"]
    assert req.state == RequestState.AWAITING_CLERK
    assert "Entered by a clerk (phone)" in response.content.decode()
    own = _approve(_as(clerk), req).content.decode()
    assert "(request_self_approval)" in own
    _approve(_as(clerk2), req)
    assert ReleaseRequest.objects.get(pk=req.pk).state == RequestState.APPROVED


def test_the_entry_form_rejects_bad_input_and_compliance(
    police_organisation, clerk, compliance
) -> None:
    bad = _as(clerk).post(
        "/desk/requests/new/", _entry(police_organisation, bookings=" ,", source="api")
    )
    assert bad.status_code == 200
    text = bad.content.decode()
    assert "At least one booking number." in text
    assert "Select a valid choice" in text
    refused = _as(compliance).post("/desk/requests/new/", _entry(police_organisation))
    assert "Only a clerk enters requests." in refused.content.decode()
    assert not ReleaseRequest.objects.exists()


# --- the staff lookup -----------------------------------------------------------------------------


def test_the_lookup_shows_usable_bookings_and_audits_a_hash(bookings, clerk) -> None:
    form = _as(clerk).get("/desk/lookup/")
    assert form.status_code == 200
    assert b"B1" not in form.content
    assert not AuditEntry.objects.filter(action=AuditAction.STAFF_LOOKUP).exists()
    found = _as(clerk).post(
        "/desk/lookup/", {"surname": "doe", "given": "jor", "born": "1990-05-17"}
    )
    text = found.content.decode()
    assert "<code>B1</code>" in text
    assert "<code>B7</code>" in text
    assert "B2" not in text  # sealed: counted, never named
    assert "1 other held that can never be released" in text
    entry = AuditEntry.objects.get(action=AuditAction.STAFF_LOOKUP)
    assert entry.actor == "clerk1"
    assert entry.obligations == {"people": 1, "shown": 2, "withheld": 1}
    # The query and each booking shown, as keyed hashes only (a hash may hold any hex digits).
    assert [ref.partition(":")[0] for ref in entry.subject_refs] == ["lookup", "booking", "booking"]
    assert all(re.fullmatch(r"[0-9a-f]{32}", ref.partition(":")[2]) for ref in entry.subject_refs)
    stored = str([entry.obligations, entry.reasons, entry.excluded, entry.case_ref, entry.purpose])
    for personal in ("doe", "jor", "1990", "b1", "b7"):
        assert personal not in stored.lower()


def test_a_lookup_that_finds_nothing_is_audited_too(bookings, compliance) -> None:
    text = (
        _as(compliance)
        .post("/desk/lookup/", {"surname": "Doe", "given": "", "born": date(1991, 1, 1)})
        .content.decode()
    )
    assert "0 matching people" in text
    assert AuditEntry.objects.filter(action=AuditAction.STAFF_LOOKUP, actor="officer").count() == 1
