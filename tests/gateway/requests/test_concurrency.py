"""Two clerks acting on one request at the same moment: one outcome, both actions recorded (PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from gateway.requests.models import RequestState
from gateway.requests.services import RequestRefusedError, request_approve, request_deny
from tests.gateway.requests.conftest import submit

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(*actions: Callable[[], Any]) -> list[Any]:
    """Run the actions in threads released together; return each one's result or exception."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(index: int, action: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[index] = action()
        except Exception as exc:  # the refusal is the expected result of the loser
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.parametrize("rounds", range(3))
def test_approve_and_deny_at_once_give_one_outcome_and_two_rows(
    rounds: int, bookings, detective, clerk, clerk2
) -> None:
    req = submit(detective)
    results = _race(
        lambda: request_approve(user=clerk, request_id=req.public_id),
        lambda: request_deny(user=clerk2, request_id=req.public_id, reason_code="no_case"),
    )
    refused = [r for r in results if isinstance(r, RequestRefusedError)]
    assert len(refused) == 1, results
    req.refresh_from_db()
    assert req.state in (RequestState.APPROVED, RequestState.DENIED)
    decided = req.transitions.exclude(from_state__in=["", RequestState.SUBMITTED])
    applied = decided.filter(refused_code="")
    assert applied.count() == 1
    assert applied.get().to_state == req.state
    assert decided.filter(refused_code="request_illegal_transition").count() == 1


def test_two_approvals_at_once_approve_once(bookings, detective, clerk, clerk2) -> None:
    req = submit(detective)
    results = _race(
        lambda: request_approve(user=clerk, request_id=req.public_id),
        lambda: request_approve(user=clerk2, request_id=req.public_id),
    )
    assert sum(isinstance(r, RequestRefusedError) for r in results) == 1, results
    req.refresh_from_db()
    assert req.state == RequestState.APPROVED
    assert req.transitions.filter(to_state=RequestState.APPROVED, refused_code="").count() == 1
    assert (
        req.transitions.filter(to_state=RequestState.APPROVED).exclude(refused_code="").count() == 1
    )
