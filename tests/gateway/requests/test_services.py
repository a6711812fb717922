"""The request lifecycle's rules, one test each (issue 9; formats-and-conventions.md workflow rules)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from gateway.audit.models import AuditAction, AuditEntry
from gateway.exceptions import GatewayErrorCode, NotFoundError
from gateway.models import Booking
from gateway.releases.services import ReleaseStatus
from gateway.requests.models import PublicOutcome, ReleaseRequest, RequestSource, RequestState
from gateway.requests.services import (
    RequestRefusedError,
    request_approve,
    request_deny,
    request_fulfil,
    request_preview,
    request_submit,
    request_withdraw,
    requests_expire,
)
from tests.gateway.requests.conftest import POLICE, police_needs_two_approvers, submit

pytestmark = pytest.mark.django_db
S = RequestState


def _steps(req: ReleaseRequest) -> list[tuple[str, str, str]]:
    return list(req.transitions.values_list("from_state", "to_state", "refused_code"))


def _refused(code: GatewayErrorCode, call: object, **kwargs: object) -> None:
    with pytest.raises(RequestRefusedError) as raised:
        call(**kwargs)  # type: ignore[operator]
    assert raised.value.code == code


def test_submission_goes_to_a_clerk_and_is_recorded(bookings, detective) -> None:
    req = submit(detective)
    assert req.public_id.startswith("req_")
    assert (req.state, req.outcome, req.approvals_required) == (
        S.AWAITING_CLERK,
        "pending_review",
        1,
    )
    assert _steps(req) == [("", S.SUBMITTED, ""), (S.SUBMITTED, S.AWAITING_CLERK, "")]
    assert req.requested_by_username == "det"
    assert req.policy_version.startswith("sha256:")
    preview = AuditEntry.objects.get(public_id=req.latest_preview_id)
    assert (preview.action, preview.released_count) == (AuditAction.RELEASE_PREVIEW, 0)
    assert AuditEntry.objects.filter(action=AuditAction.RELEASE).count() == 0  # nothing left


def test_a_request_the_policy_denies_is_denied_at_submission(bookings, detective) -> None:
    req = submit(detective, purpose="immigration.civil-enforcement")
    assert (req.state, req.outcome) == (S.DENIED, PublicOutcome.NOT_AVAILABLE)
    step = req.transitions.get(to_state=S.DENIED)
    assert (step.reason_code, step.effect, step.actor_username) == ("policy_deny", "deny", "system")


@pytest.mark.parametrize("numbers", [["B2"], ["NO-SUCH-BOOKING"], ["B1"]])
def test_a_sealed_or_missing_booking_is_submitted_like_any_other(
    bookings, detective, numbers
) -> None:
    """CJ-09: what the requester can see (state, outcome) does not depend on the bookings."""
    req = submit(detective, booking_numbers=numbers)
    assert (req.state, req.outcome) == (S.AWAITING_CLERK, "pending_review")


def test_one_clerk_approves_and_the_requester_pulls_the_release(bookings, detective, clerk) -> None:
    req = submit(detective)
    approved = request_approve(user=clerk, request_id=req.public_id)
    assert approved.state == S.APPROVED
    release = request_fulfil(user=detective, request_id=req.public_id)
    assert release.status is ReleaseStatus.RELEASED
    assert [r["booking_number"] for r in release.records] == ["B1"]
    req.refresh_from_db()
    assert (req.state, req.outcome, req.release_public_id) == (
        S.FULFILLED,
        PublicOutcome.RELEASED,
        release.release_id,
    )
    entry = AuditEntry.objects.get(public_id=release.release_id)
    assert (entry.action, entry.released_count, entry.obligations["reviewed_by"]) == (
        "release",
        1,
        "clerk1",
    )
    _refused(
        GatewayErrorCode.REQUEST_ILLEGAL_TRANSITION,
        request_fulfil,
        user=detective,
        request_id=req.public_id,
    )
    assert req.transitions.filter(refused_code="request_illegal_transition").count() == 1


def test_nobody_approves_their_own_request(bookings, clerk, clerk2) -> None:
    """A clerk who entered a phone request cannot approve it: by id, or by the same name."""
    req = request_submit(
        recipient={"type": "local_le", "name": "Milwaukee Police Department", "ori": "WI0410200"},
        requested_by=clerk,
        source=RequestSource.CLERK_PHONE,
        booking_numbers=["B1"],
        **POLICE,
    )
    assert req.source == RequestSource.CLERK_PHONE
    _refused(
        GatewayErrorCode.REQUEST_SELF_APPROVAL,
        request_approve,
        user=clerk,
        request_id=req.public_id,
    )
    ReleaseRequest.objects.filter(pk=req.pk).update(requested_by_username=" CLERK2 ")
    _refused(
        GatewayErrorCode.REQUEST_SELF_APPROVAL,
        request_approve,
        user=clerk2,
        request_id=req.public_id,
    )
    req.refresh_from_db()
    assert req.state == S.AWAITING_CLERK
    refused = AuditEntry.objects.filter(action=AuditAction.REQUEST_REFUSED)
    assert list(refused.values_list("error_code", flat=True)) == ["request_self_approval"] * 2


def test_two_approvers_needed_and_the_second_must_differ(
    bookings, detective, clerk, clerk2, policies: Path
) -> None:
    police_needs_two_approvers(policies)
    req = submit(detective)
    assert req.approvals_required == 2
    first = request_approve(user=clerk, request_id=req.public_id)
    assert first.state == S.AWAITING_SECOND_APPROVAL
    _refused(
        GatewayErrorCode.REQUEST_SAME_APPROVER,
        request_approve,
        user=clerk,
        request_id=req.public_id,
    )
    second = request_approve(user=clerk2, request_id=req.public_id)
    assert second.state == S.APPROVED
    assert [s[1] for s in _steps(second)][-3:] == [
        S.AWAITING_SECOND_APPROVAL,
        S.APPROVED,  # the refused attempt by the same clerk
        S.APPROVED,
    ]


def test_a_denial_ends_the_request_even_after_a_first_approval(
    bookings, detective, clerk, clerk2, policies: Path
) -> None:
    police_needs_two_approvers(policies)
    req = submit(detective)
    request_approve(user=clerk, request_id=req.public_id)
    denied = request_deny(
        user=clerk2, request_id=req.public_id, reason_code="no_case", reason_text="x"
    )
    assert (denied.state, denied.outcome) == (S.DENIED, PublicOutcome.NOT_AVAILABLE)
    _refused(
        GatewayErrorCode.REQUEST_ILLEGAL_TRANSITION,
        request_approve,
        user=clerk,
        request_id=req.public_id,
    )
    _refused(
        GatewayErrorCode.REQUEST_ILLEGAL_TRANSITION,
        request_deny,
        user=clerk,
        request_id=req.public_id,
        reason_code="x",
    )
    # The clerk's free text stays on the transition, never in the audit log.
    assert not AuditEntry.objects.filter(obligations__icontains='"x"').exists()


def test_only_clerks_decide(bookings, detective, compliance, other_agency) -> None:
    req = submit(detective)
    _refused(
        GatewayErrorCode.REQUEST_NOT_CLERK,
        request_approve,
        user=compliance,
        request_id=req.public_id,
    )
    _refused(
        GatewayErrorCode.REQUEST_NOT_CLERK,
        request_deny,
        user=compliance,
        request_id=req.public_id,
        reason_code="x",
    )
    for outsider in (detective, other_agency, None):
        with pytest.raises(NotFoundError):
            request_approve(user=outsider, request_id=req.public_id)
    not_staff = User.objects.create_user(username="clerk-not-staff")
    not_staff.groups.add(*User.objects.get(username="officer").groups.all())
    with pytest.raises(NotFoundError):
        request_deny(user=not_staff, request_id=req.public_id, reason_code="x")


def test_approval_only_narrows(bookings, detective, clerk) -> None:
    req = submit(detective, booking_numbers=["B1", "B7"], fields=["booking_number", "person"])
    changes: list[dict[str, list[str]]] = [
        {"booking_numbers": ["B1", "B2"]},
        {"fields": ["booking_number", "housing"]},
        {"booking_numbers": []},
    ]
    for change in changes:
        _refused(
            GatewayErrorCode.REQUEST_WIDENED,
            request_approve,
            user=clerk,
            request_id=req.public_id,
            **change,
        )
    request_approve(
        user=clerk, request_id=req.public_id, booking_numbers=["B7"], fields=["booking_number"]
    )
    release = request_fulfil(user=detective, request_id=req.public_id)
    assert release.records == ({"booking_number": "B7"},)


def test_a_booking_sealed_between_approval_and_fulfilment_never_leaves(
    bookings, detective, clerk
) -> None:
    req = submit(detective, booking_numbers=["B1", "B7"])
    request_approve(user=clerk, request_id=req.public_id)
    Booking.objects.filter(booking_number="B7").update(sealed_order="2026CV1")
    release = request_fulfil(user=detective, request_id=req.public_id)
    assert [r["booking_number"] for r in release.records] == ["B1"]
    Booking.objects.filter(booking_number="B1").update(sealed_order="2026CV2")
    only = submit(detective, booking_numbers=["B1"])
    request_approve(user=clerk, request_id=only.public_id)
    nothing = request_fulfil(user=detective, request_id=only.public_id)
    only.refresh_from_db()
    assert (nothing.status, nothing.records) == (ReleaseStatus.NOT_AVAILABLE, ())
    assert (only.state, only.outcome) == (S.FULFILLED, PublicOutcome.NOT_AVAILABLE)


def test_the_policy_decides_again_at_approval(bookings, detective, clerk, policies: Path) -> None:
    req = submit(detective)
    local = policies / "local-police.yaml"
    local.write_text(local.read_text().replace("status: active", "status: suspended"))
    denied = request_approve(user=clerk, request_id=req.public_id)
    assert denied.state == S.DENIED
    assert denied.transitions.get(to_state=S.DENIED).reason_code == "policy_deny_at_approval"


def test_pending_requests_expire_on_a_fake_clock(bookings, detective, settings) -> None:
    settings.REQUEST_PENDING_DAYS = 3
    start = timezone.now()
    req = submit(detective, now=start)
    assert req.expires_at == start + timedelta(days=3)
    assert requests_expire(now=start + timedelta(days=3) - timedelta(seconds=1)) == 0
    assert requests_expire(now=start + timedelta(days=3)) == 1
    req.refresh_from_db()
    assert (req.state, req.outcome) == (S.EXPIRED, PublicOutcome.NOT_AVAILABLE)
    assert requests_expire(now=start + timedelta(days=30)) == 0


def test_the_expiry_task_calls_the_service(bookings, detective) -> None:
    from gateway.requests.tasks import requests_expire_task

    req = submit(detective)
    ReleaseRequest.objects.filter(pk=req.pk).update(expires_at=timezone.now() - timedelta(days=1))
    assert requests_expire_task.delay().get() == 1


def test_withdrawal_by_the_requester_only_while_pending(
    bookings, detective, other_agency, clerk
) -> None:
    req = submit(detective)
    with pytest.raises(NotFoundError):
        request_withdraw(user=other_agency, request_id=req.public_id)
    assert request_withdraw(user=detective, request_id=req.public_id).state == S.WITHDRAWN
    _refused(
        GatewayErrorCode.REQUEST_ILLEGAL_TRANSITION,
        request_withdraw,
        user=detective,
        request_id=req.public_id,
    )


def test_a_clerks_preview_shows_the_records_and_releases_nothing(
    bookings, detective, clerk
) -> None:
    req = submit(detective, booking_numbers=["B1", "B2"])
    preview = request_preview(user=clerk, request_id=req.public_id)
    assert [r["booking_number"] for r in preview.records] == ["B1"]
    req.refresh_from_db()
    assert req.latest_preview_id == preview.release_id
    assert AuditEntry.objects.filter(action=AuditAction.RELEASE).count() == 0
    with pytest.raises(NotFoundError):
        request_preview(user=detective, request_id=req.public_id)


def test_transitions_are_append_only(bookings, detective) -> None:
    step = submit(detective).transitions.first()
    assert step is not None
    step.reason_text = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        step.save()
