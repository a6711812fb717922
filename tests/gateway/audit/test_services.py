"""The one audit writer: a closed list of actions, references instead of personal data."""

from __future__ import annotations

import pytest

from gateway.audit.context import request_id_set
from gateway.audit.models import AuditAction, AuditEntry
from gateway.audit.services import audit_event_record, case_ref, subject_ref

pytestmark = pytest.mark.django_db


def test_a_free_text_action_is_refused() -> None:
    with pytest.raises(ValueError, match="is not a valid AuditAction"):
        audit_event_record(action="released stuff", actor="x", outcome="permit")  # type: ignore[arg-type]
    assert not AuditEntry.objects.exists()


def test_raw_subject_values_are_refused() -> None:
    with pytest.raises(ValueError, match="references"):
        audit_event_record(
            action=AuditAction.RELEASE, actor="x", outcome="deny", subject_refs=["B123456"]
        )


def test_references_are_keyed_and_stable(settings) -> None:
    first = subject_ref(kind="booking", value="B1")
    assert first == subject_ref(kind="booking", value="B1")
    assert first.startswith("booking:")
    assert "B1" not in first.split(":", 1)[1]
    assert first != subject_ref(kind="person", value="B1")
    settings.AUDIT_SUBJECT_KEY = "another county key"
    from gateway.audit import services

    services._ref_key.cache_clear()
    try:
        assert subject_ref(kind="booking", value="B1") != first  # keyed, not a plain hash
    finally:
        services._ref_key.cache_clear()


def test_the_entry_keeps_case_numbers_as_hashes_and_quotes_the_request_id() -> None:
    request_id_set("req_0123456789abcdef")
    try:
        entry = audit_event_record(
            action=AuditAction.RELEASE,
            actor="det",
            outcome="deny",
            recipient={"type": "local_le", "name": "MPD", "ori": "WI0400100", "ssn": "1"},
            case_number="2026CF001234",
        )
    finally:
        request_id_set("")
    entry.refresh_from_db()
    assert entry.case_ref == case_ref("2026CF001234") != "2026CF001234"
    assert entry.request_id == "req_0123456789abcdef"
    assert entry.public_id.startswith("rel_")
    assert str(entry) == f"audit {entry.public_id}"
