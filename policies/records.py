"""Record-level guardrails: which exported bookings may never leave, and why (first reason wins).

Juvenile, sealed, expunged and removed bookings (WI-01..WI-03, CJ-09) and bookings without a readable
status are excluded for every recipient; non-conviction bookings (CJ-08, FR-17) for recipients
outside criminal justice unless their agreement records a legal basis.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

__all__ = ["ADULT_AGE", "record_exclusion"]

_STATUS_FLAGS = ("juvenile", "sealed", "expunged", "removed")
_CONVICTED = ("convicted", "guilty", "plea of guilty", "no contest", "nolo contendere", "sentenced")
_PENDING = ("", "pending", "open", "awaiting trial", "none")
ADULT_AGE = 17  # WI-02: Wisconsin treats people aged 17 and over as adults.


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _truthy_flag(status: Mapping[str, Any], flag: str) -> bool:
    # Fail closed: only an explicit false makes a record releasable on this flag.
    return status.get(flag) is not False


def _age_at_booking(record: Mapping[str, Any], person: Mapping[str, Any]) -> int | None:
    born, booked = person.get("date_of_birth"), record.get("booked_at")
    if isinstance(born, str) and isinstance(booked, str) and len(born) >= 10 and len(booked) >= 10:
        try:
            birth, at = date.fromisoformat(born[:10]), date.fromisoformat(booked[:10])
        except ValueError:
            return None
        return at.year - birth.year - ((at.month, at.day) < (birth.month, birth.day))
    age = person.get("age")
    return age if isinstance(age, int) and not isinstance(age, bool) else None


def _non_conviction(record: Mapping[str, Any], now: datetime) -> bool:
    """CJ-08/FR-17: no conviction on any charge, and not a pending case younger than 365 days."""
    charges = record.get("charges") or []
    pending = False
    for charge in charges:
        if not isinstance(charge, Mapping):
            continue  # an unreadable charge proves nothing either way
        disposition = _text(charge.get("disposition")).casefold()
        if disposition.startswith(_CONVICTED):
            return False
        pending = pending or disposition in _PENDING
    booked = record.get("booked_at")
    if pending and isinstance(booked, str):
        try:
            booked_at = datetime.fromisoformat(booked)
        except ValueError:
            return True
        if booked_at.tzinfo is None:
            booked_at = booked_at.replace(tzinfo=UTC)
        return now - booked_at > timedelta(days=365)
    return True


def record_exclusion(record: Any, *, now: datetime, exclude_non_conviction: bool) -> str | None:
    """Why a record may not leave (first reason wins), or ``None`` if it may.

    A missing ``status`` or a flag that is not explicitly false counts as not releasable (fail closed).
    """
    # ``(dict, Mapping)``: a dict, the usual case, is told at a third of the ABC check's cost.
    if not isinstance(record, (dict, Mapping)) or not _text(record.get("booking_number")):
        return "malformed"
    status = record.get("status")
    if not isinstance(status, (dict, Mapping)) or any(flag not in status for flag in _STATUS_FLAGS):
        return "status_unknown"
    person = record.get("person")
    if not isinstance(person, (dict, Mapping)):
        return "malformed"
    age = _age_at_booking(record, person)
    if _truthy_flag(status, "juvenile") or (age is not None and age < ADULT_AGE):
        return "juvenile"
    for flag in ("sealed", "expunged", "removed"):
        if _truthy_flag(status, flag):
            return flag
    if exclude_non_conviction and _non_conviction(record, now):
        return "non_conviction"
    return None
