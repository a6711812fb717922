"""The reading side of an import: check each parsed row against the model, hash it, and gather batches.

Pure Python on plain values, no database: it runs on the caller's thread while the previous batch is being
committed (see import_commit). Split out of `imports` to keep modules small.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import models

from gateway.models import Booking, Charge, Person
from gateway.records.importers.base import ParsedBooking, ParsedRow, RowRejection
from gateway.records.importers.upsert import BookingItem, row_stage

__all__ = [
    "MUGSHOT_FIELD",
    "Batch",
    "BatchWriter",
    "LaterState",
    "Pending",
    "later_states",
    "row_check",
]

# The ImportRejection.field of a refused image, which is not a rejected row. A format's own row rejection is
# never stored under this name (see BatchWriter.add), so the two cannot be confused when the report is read.
MUGSHOT_FIELD = "mugshot"

# ---------------------------------------------------------------------------------------------------------
# Validation of the plain values against the model, so a batch never fails in the database.


@dataclass(frozen=True, slots=True)
class _FieldRule:
    """What one model field can hold, worked out once instead of asking the field for every value."""

    nullable: bool
    choices: frozenset[str] | None
    max_length: int | None
    decimal_limit: Decimal | None
    moment: bool  # a date and time, which must say its time zone


def _field_rules(model: type[models.Model]) -> dict[str, _FieldRule]:
    rules = {}
    for f in model._meta.concrete_fields:
        if (
            f.primary_key
            or f.is_relation
            or f.name in {"source", "source_key", "content_hash", "created_at", "updated_at"}
        ):
            continue
        limit = None
        if (
            isinstance(f, models.DecimalField)
            and f.max_digits is not None
            and f.decimal_places is not None
        ):
            limit = Decimal(10) ** (f.max_digits - f.decimal_places)
        rules[f.name] = _FieldRule(
            nullable=f.null,
            choices=frozenset(str(c) for c, _ in f.flatchoices) if f.choices else None,
            max_length=f.max_length,
            decimal_limit=limit,
            moment=isinstance(f, models.DateTimeField),
        )
    return rules


_RULES = {
    "person": _field_rules(Person),
    "booking": _field_rules(Booking),
    "charge": _field_rules(Charge),
}


def _values_check(kind: str, values: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """(field, value, reason) for the first value the model cannot hold, else None."""
    rules = _RULES[kind]
    for name, value in values.items():
        rule = rules.get(name)
        if rule is None:
            raise TypeError(
                f"a format produced an unknown {kind} field {name!r}"
            )  # a bug, not data
        if value is None:
            if not rule.nullable:
                return name, "", "a value is required"
        elif rule.choices is not None and value not in rule.choices:
            return name, str(value), f"not one of {', '.join(sorted(rule.choices))}"
        elif (
            rule.max_length is not None and isinstance(value, str) and len(value) > rule.max_length
        ):
            return name, value, f"longer than the {rule.max_length} characters {kind}.{name} holds"
        elif (
            rule.decimal_limit is not None
            and isinstance(value, Decimal)
            and abs(value) >= rule.decimal_limit
        ):
            return name, str(value), f"too large for {kind}.{name}"
        elif rule.moment and getattr(value, "tzinfo", True) is None:
            # Every format attaches the source's time zone; a date and time without one would be a moment
            # nobody can place (and, sent to PostgreSQL by binary COPY, would fail its whole batch).
            return name, str(value), "a date and time without a time zone"
    return None


def row_check(row: ParsedBooking) -> RowRejection | None:
    problem = _values_check("person", row.person)
    kind = "person"
    if problem is None:
        problem, kind = _values_check("booking", row.booking), "booking"
    for charge in row.charges:
        if problem is not None:
            break
        problem, kind = _values_check("charge", charge), "charge"
    if problem is not None:
        name, value, reason = problem
        return RowRejection(line=row.line, field=f"{kind}.{name}", value=value, reason=reason)
    for label, key in (("person", row.person_key), ("booking", row.booking_key)):
        if not key or len(key) > 200:
            return RowRejection(
                line=row.line,
                field=f"{label} key",
                value=key[:200],
                reason="empty or over 200 characters",
            )
    return None


def _hash(value: Any) -> str:
    """sha256 of the value's repr: deterministic for the plain values formats produce (str, int, Decimal, date,
    aware datetime, enums, and dicts and tuples of them in the order the format builds them), and several times
    cheaper than a canonical JSON dump, which matters at tens of thousands of rows a second."""
    return hashlib.sha256(repr(value).encode()).hexdigest()


_EMPTY_HASH = _hash({})


# ---------------------------------------------------------------------------------------------------------
# Batch writing.


@dataclass(slots=True)
class Pending(BookingItem):
    """A checked and hashed row waiting in a batch: what the database side needs, and the row it came from."""

    row: ParsedBooking
    # For a row a later row of the same file replaces (a booking message followed by its release): the hash of
    # that last row. If the database already holds it, this row is history already applied, not a change.
    final_hash: str | None
    # Set on such a row when it is the file's last word on the booking's charges and the last row does not
    # report charges: the stored hash then says nothing about the charges, so they are compared too.
    charges_final: bool = False


@dataclass
class Batch:
    """One batch's rows, handed from the reading side to the committing side."""

    pending: list[Pending]
    rejections: list[RowRejection]
    last_line: int
    dropped: set[str]


def _row_hashes(row: ParsedBooking) -> tuple[str, str]:
    """(person hash, row hash) of a row: the row hash covers person, booking, charges and image bytes.

    Charges not reported hash as None, unlike "no charges" (an empty tuple): the two rows do different things.
    """
    mugshots = (
        [(hashlib.sha256(m.data).hexdigest(), m.pose, m.captured_at) for m in row.mugshots]
        if row.mugshots
        else []
    )
    # `age_recorded_on` is left out: a daily roster restates the same age every day, and "age 44 recorded
    # on the first day it was seen" stays true until the age itself changes.
    person = row.person
    if not person:
        person_hash = _EMPTY_HASH  # layouts without people's details (a roster of booking times)
    elif "age_recorded_on" in person:
        person_hash = _hash({k: v for k, v in person.items() if k != "age_recorded_on"})
    else:
        person_hash = _hash(person)
    row_hash = _hash(
        (
            row.person_key,
            person_hash,
            row.booking,
            row.charges if row.charges_reported else None,
            mugshots,
        )
    )
    return person_hash, row_hash


class LaterState(NamedTuple):
    """Where a booking carried by several rows of a file ends up: its last row, and its last word on charges."""

    line: int
    row_hash: str
    charges_line: int  # the last row that reports charges (0: none does)


def later_states(rows: Iterable[ParsedRow]) -> dict[str, LaterState]:
    """Booking key -> its `LaterState`, for every booking that more than one valid row of the file carries.

    A first pass over a file whose later rows update earlier ones (NIEM messages). Without it a re-import could
    not tell "the stored booking is this file's last message" from "this file's first message is news", and
    would rewrite every released booking twice. It costs a second parse and, like the in-file duplicate check
    of the other formats, memory that grows with the number of bookings (a key, a line and a hash each).
    """
    # An int marks a key seen once (the line of its row if that row reports charges, else 0): a hash is only
    # worked out once a second row shows it is needed.
    last: dict[str, LaterState | int] = {}
    for row in rows:
        if isinstance(row, ParsedBooking) and row_check(row) is None:
            key = row.booking_key
            seen = last.get(key)
            charges_line = row.line if row.charges_reported else 0
            if seen is None:
                last[key] = charges_line
            else:
                before = seen if isinstance(seen, int) else seen.charges_line
                last[key] = LaterState(row.line, _row_hashes(row)[1], charges_line or before)
    return {key: state for key, state in last.items() if isinstance(state, LaterState)}


@dataclass
class BatchWriter:
    """Collects rows, validated and hashed, until a batch is taken for commit.

    With `repeats_update` (see gateway.records.importers.base.repeats_are_updates) a later row for a booking already read
    is an update, applied in file order: the caller writes the batch holding the earlier row first. Otherwise it
    is rejected as a duplicate naming the first line.
    """

    repeats_update: bool = False
    later: Mapping[str, LaterState] = field(default_factory=dict)
    # On PostgreSQL: work out each row's COPY row here, on the reading thread (see upsert.row_stage).
    stage_rows: bool = False
    pending: list[Pending] = field(default_factory=list)
    pending_keys: set[str] = field(default_factory=set)
    rejections: list[RowRejection] = field(default_factory=list)
    last_line: int = 0
    dropped: set[str] = field(default_factory=set)
    # Booking key -> first line, to refuse a second row for the same booking in one file. The one structure
    # that grows with the file (about 100 bytes a booking); the rest of the import is constant memory.
    seen: dict[int, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.pending) + len(self.rejections)

    def holds(self, row: ParsedRow) -> bool:
        """Whether `row` updates a booking this batch already holds (one upsert cannot write a key twice)."""
        return (
            self.repeats_update
            and isinstance(row, ParsedBooking)
            and row.booking_key in self.pending_keys
        )

    def take(self) -> Batch:
        batch = Batch(self.pending, self.rejections, self.last_line, set(self.dropped))
        self.pending, self.rejections, self.pending_keys = [], [], set()
        return batch

    def add(self, row: ParsedRow) -> None:
        if row.line > self.last_line:
            self.last_line = row.line
        if isinstance(row, RowRejection):
            if row.field == MUGSHOT_FIELD:  # reserved for refused images, not rejected rows
                row = replace(row, field=f"{MUGSHOT_FIELD} (row)")
            self.rejections.append(row)
            return
        if row.dropped_fields:
            self.dropped.update(row.dropped_fields)
        problem = row_check(row)
        if problem is None and not self.repeats_update:
            first_line = self.seen.setdefault(hash(row.booking_key), row.line)
            if first_line != row.line:
                problem = RowRejection(
                    line=row.line,
                    field="booking key",
                    value=row.booking_key,
                    reason=f"the same booking as line {first_line}; a file may list a booking once",
                )
        if problem is not None:
            self.rejections.append(problem)
            return
        person_hash, row_hash = _row_hashes(row)
        last = self.later.get(row.booking_key)
        replaced = last is not None and last.line > row.line
        final_hash = last.row_hash if last is not None and replaced else None
        self.pending.append(
            Pending(
                row.booking_key,
                row_hash,
                row.booking,
                row.person_key,
                person_hash,
                row.person,
                row.charges,
                True,
                row.charges_reported,
                None,
                row,
                final_hash,
                replaced and last is not None and last.charges_line == row.line,
            )
        )
        if self.stage_rows:
            self.pending[-1].staged = row_stage(self.pending[-1])
        if self.repeats_update:
            self.pending_keys.add(row.booking_key)
