"""The clerk queue (true counts, constant queries over 10,000 rows) and the audited staff detail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from gateway.audit.models import AuditAction, AuditEntry
from gateway.exceptions import NotFoundError
from gateway.requests.models import ReleaseRequest, RequestState
from gateway.requests.selectors import request_detail_for_staff, requests_queue
from tests.gateway.requests.conftest import submit

pytestmark = pytest.mark.django_db


def _bulk(user, count: int) -> None:
    now = timezone.now()
    states = [RequestState.AWAITING_CLERK, RequestState.DENIED, RequestState.APPROVED]
    ReleaseRequest.objects.bulk_create(
        ReleaseRequest(
            recipient_type="local_le",
            recipient_name="Milwaukee Police Department" if i % 2 else "Wauwatosa PD",
            requested_by=user,
            requested_by_username=user.username,
            purpose="investigation.violent-felony" if i % 3 else "missing-person",
            case_number=f"C-{i}",
            booking_numbers=[f"B{i}"],
            state=states[i % 3],
            expires_at=now + timedelta(days=14),
        )
        for i in range(count)
    )


def test_the_queue_of_ten_thousand_takes_two_queries(
    detective, django_assert_max_num_queries
) -> None:
    _bulk(detective, 10_000)
    with django_assert_max_num_queries(2):
        page = requests_queue(state=RequestState.AWAITING_CLERK, per_page=200, page=2)
        rows = [(r.public_id, r.recipient_name, r.purpose, r.state) for r in page.rows]
    assert page.total == 3334
    assert len(rows) == 200
    assert page.has_more
    with django_assert_max_num_queries(2):
        small = requests_queue(per_page=10)
        [r.purpose for r in small.rows]
    assert small.total == 10_000


def test_queue_filters(detective) -> None:
    _bulk(detective, 30)
    assert requests_queue(recipient="wauwatosa pd").total == 15
    assert requests_queue(purpose="investigation").total == 20
    assert requests_queue(search="C-7").total == 1
    assert requests_queue(search="B7").total == 0  # booking numbers are not searchable
    assert requests_queue(older_than=timezone.now() - timedelta(days=1)).total == 0
    ordered = requests_queue(order="purpose", per_page=30).rows
    assert ordered[0].purpose == "investigation.violent-felony"
    assert requests_queue(order="booking_numbers").total == 30  # an unknown order falls back


def test_staff_detail_is_audited_and_holds_the_history_and_latest_preview(
    bookings, detective, clerk, compliance, other_agency
) -> None:
    req = submit(detective)
    detail = request_detail_for_staff(user=clerk, request_id=req.public_id)
    assert detail.request.pk == req.pk
    assert [t.to_state for t in detail.transitions] == ["submitted", "awaiting_clerk"]
    assert detail.latest_preview is not None
    assert detail.latest_preview.action == AuditAction.RELEASE_PREVIEW
    request_detail_for_staff(user=compliance, request_id=req.public_id)
    views = AuditEntry.objects.filter(action=AuditAction.REQUEST_VIEW)
    assert list(views.values_list("actor", flat=True).order_by("id")) == ["clerk1", "officer"]
    for outsider in (detective, other_agency, None):
        with pytest.raises(NotFoundError):
            request_detail_for_staff(user=outsider, request_id=req.public_id)
    with pytest.raises(NotFoundError):
        request_detail_for_staff(user=clerk, request_id="req_missing")
