"""The database side of an import batch: upsert people and bookings on (source, source_key), replace charges.

Charges are replaced only for bookings whose row reports them (`BookingItem.charges_reported`): a row that says
nothing about charges (a NIEM release message) updates its booking and leaves the stored charges as they are.

Used only by the import service, which owns the transaction. One function, `batch_write`, with two
implementations of one contract:

* PostgreSQL: COPY the batch (each booking with its person's values) into a temporary staging table, then ONE
  multi-statement round trip does the rest in the database: `INSERT … SELECT … ON CONFLICT (source,
  source_key) DO UPDATE … WHERE content_hash IS DISTINCT FROM …` for the people, the same for the bookings
  (their person ids found by joining on the person's key, so no id has to travel to Python and back) with
  `RETURNING source_key, id, (xmax = 0)`, the old charges of updated bookings deleted in the same statement,
  and the staging table emptied. The database both classifies each booking (inserted, updated, or not written
  because unchanged) and skips writing unchanged rows. Then the charges of the written bookings alone are
  COPYed. No ORM instances, no per-value Python adaptation, and a fixed handful of round trips per batch
  whatever its size, which matters twice: each round trip also costs the committing thread a wait for the
  interpreter lock (see `gateway.records.importing.commit.Committer`).
* Anything else (SQLite for development and tests): the ORM with `bulk_create(update_conflicts=True)`.

Only the fields a row carries are updated on conflict (rows are grouped by their field sets), so a file that does
not publish a field never blanks what another file of the same source stored. New rows get the model defaults
for the fields they lack.
"""

from __future__ import annotations

import enum
import hashlib
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db import connection, models
from psycopg import sql

# SQL here is built from model metadata (table and column names) and values quoted by psycopg's sql.Literal;
# row values travel by COPY. Hence the S608 exemptions below.
from gateway.models import Booking, Charge, Person

__all__ = ["BookingItem", "StagedRow", "batch_write", "row_stage"]

Status = str  # "created" | "updated" (an unchanged booking is not returned)
_AUTOMATIC = {"id", "source", "source_key", "content_hash", "created_at", "updated_at"}


@dataclass(slots=True)
class BookingItem:
    """One booking to upsert with its person and its charges, each side keyed and hashed by the caller.

    `person_last` marks the batch's last row for its person: only that row's person values are written (a
    person in several rows of a batch: the last row wins); the caller sets it when the batch is complete. A
    charge's `sequence` is its 1-based position unless the charge gives one. With `charges_reported` False the
    booking's stored charges are kept (and `charges` is empty). Not frozen: one is built for every
    row read, and a frozen dataclass costs about three times as much to build.

    `staged` is the row's COPY row for PostgreSQL when `row_stage` has already worked it out (the import does
    so on its reading thread; see there), else None and the writer works it out.
    """

    key: str
    content_hash: str
    values: Mapping[str, Any]
    person_key: str
    person_hash: str
    person: Mapping[str, Any]
    charges: Sequence[Mapping[str, Any]]
    person_last: bool
    charges_reported: bool
    staged: StagedRow | None


@dataclass(frozen=True, slots=True)
class _UpsertItem:
    key: str
    content_hash: str
    values: Mapping[str, Any]


def batch_write(
    *,
    source: str,
    bookings: Sequence[BookingItem],
    prepared: dict[str, list[int]] | None = None,
) -> dict[str, tuple[int, Status]]:
    """Upsert `bookings` (unique keys) and their people, and replace the charges of every booking written
    whose row reports charges (the others keep theirs).

    Returns booking key -> (id, "created" or "updated") for the bookings written; a booking of the batch that is
    not returned was unchanged, and nothing of it (charges included) was written. `prepared` is the caller's
    record, for one import, of the staging tables already made ready (name -> the type oids of its COPY columns),
    which saves a round trip a batch.
    """
    if not bookings:
        return {}
    if connection.vendor == "postgresql":
        return _pg_write(
            source=source, bookings=bookings, prepared={} if prepared is None else prepared
        )
    return _orm_write(source=source, bookings=bookings)


def _columns(model: type[models.Model]) -> dict[str, models.Field[Any, Any]]:
    return {f.attname: f for f in model._meta.concrete_fields if f.attname not in _AUTOMATIC}


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _groups(items: Sequence[Any]) -> dict[frozenset[str], list[Any]]:
    groups: dict[frozenset[str], list[Any]] = {}
    for item in items:
        groups.setdefault(frozenset(item.values), []).append(item)
    return groups


# ---------------------------------------------------------------------------------------------------------
# The ORM (SQLite).


def _orm_write(*, source: str, bookings: Sequence[BookingItem]) -> dict[str, tuple[int, Status]]:
    people = [_UpsertItem(b.person_key, b.person_hash, b.person) for b in bookings if b.person_last]
    person_ids = _orm_upsert(model=Person, source=source, items=people)
    booking_items = [
        _UpsertItem(b.key, b.content_hash, {**b.values, "person_id": person_ids[b.person_key][0]})
        for b in bookings
    ]
    statuses = _orm_upsert(model=Booking, source=source, items=booking_items)
    written = {key: state for key, state in statuses.items() if state[1] != "unchanged"}
    updated = [
        written[b.key][0]
        for b in bookings
        if b.charges_reported and b.key in written and written[b.key][1] == "updated"
    ]
    if updated:
        Charge.objects.filter(booking_id__in=updated).delete()
    Charge.objects.bulk_create(
        [
            Charge(**{"sequence": position, **charge, "booking_id": written[b.key][0]})
            for b in bookings
            if b.key in written
            for position, charge in enumerate(b.charges, start=1)
        ]
    )
    return written


def _orm_upsert(
    *, model: type[Person] | type[Booking], source: str, items: Sequence[_UpsertItem]
) -> dict[str, tuple[int, str]]:
    keys = [item.key for item in items]
    stored = {
        key: (pk, content_hash)
        for key, pk, content_hash in model.objects.filter(
            source=source, source_key__in=keys
        ).values_list("source_key", "id", "content_hash")
    }
    changed = [
        item for item in items if item.key not in stored or stored[item.key][1] != item.content_hash
    ]
    for fields_present, group in _groups(changed).items():
        instances: list[Any] = [
            model(source=source, source_key=item.key, content_hash=item.content_hash, **item.values)
            for item in group
        ]
        model.objects.bulk_create(
            instances,
            update_conflicts=True,
            unique_fields=["source", "source_key"],
            update_fields=sorted(
                {model._meta.get_field(name).name for name in fields_present}
                | {"content_hash", "updated_at"}
            ),
        )
    new = [item.key for item in items if item.key not in stored]
    ids = {key: pk for key, (pk, _) in stored.items()}
    if new:
        ids.update(
            model.objects.filter(source=source, source_key__in=new).values_list("source_key", "id")
        )
    result: dict[str, tuple[int, str]] = {}
    for item in items:
        if item.key not in stored:
            result[item.key] = (ids[item.key], "created")
        elif stored[item.key][1] != item.content_hash:
            result[item.key] = (ids[item.key], "updated")
        else:
            result[item.key] = (ids[item.key], "unchanged")
    return result


# ---------------------------------------------------------------------------------------------------------
# PostgreSQL: COPY into a staging table, then one round trip of set-based statements.

# A staging table is emptied with DELETE after each batch, which costs nothing, and TRUNCATEd every so many
# batches, which costs a few milliseconds but keeps the dead rows DELETE leaves (a temporary table is never
# vacuumed) from piling up for the statements that read it.
_TRUNCATE_EVERY = 20
_stage_uses = itertools.count()


def _pg_write(
    *, source: str, bookings: Sequence[BookingItem], prepared: dict[str, list[int]]
) -> dict[str, tuple[int, Status]]:
    empty = "TRUNCATE" if next(_stage_uses) % _TRUNCATE_EVERY == 0 else "DELETE FROM"
    with connection.cursor() as cursor:
        raw = cursor.cursor
        groups: dict[str, tuple[_Stage, list[list[Any]]]] = {}
        for item in bookings:
            stage, row = item.staged or row_stage(item)
            row[_PERSON_LAST] = item.person_last  # known only once the batch is complete
            groups.setdefault(stage.name, (stage, []))[1].append(row)
        stages = list(groups.values())
        new = [stage for stage, _ in stages if stage.name not in prepared]
        if new:  # once per import and staging table; then each batch leaves its table empty
            # The empty SELECT of each new table tells the types of its COPY columns, for binary COPY.
            cursor.execute(
                ";\n".join(
                    f"{s.create}; DELETE FROM {s.name}; "  # noqa: S608
                    f"SELECT {', '.join(s.copied)} FROM {s.name} LIMIT 0"
                    for s in new
                )
            )
            described = []
            while True:
                if raw.description is not None:
                    described.append([column.type_code for column in raw.description])
                if not raw.nextset():
                    break
            prepared.update(zip([stage.name for stage in new], described, strict=True))
        for stage, group in stages:
            # Binary: psycopg then sends a datetime as its microseconds rather than formatting it as text for
            # the server to parse again, which was a third of the committing thread's Python time.
            copied = ", ".join(stage.copied)
            with raw.copy(f"COPY {stage.name} ({copied}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(prepared[stage.name])
                for row in group:
                    copy.write_row(row)
        statements = [
            _upsert_sql(model=Person, source=source, stage=s, context=raw) for s, _ in stages
        ]
        statements += [_booking_sql(source=source, stage=s, context=raw) for s, _ in stages]
        statements += [f"{empty} {stage.name}" for stage, _ in stages]
        cursor.execute(";\n".join(statements))  # no parameters: sent together, in one round trip
        written: dict[str, tuple[int, Status]] = {}
        while True:  # one result per statement; the booking statements return the bookings written
            if raw.description is not None:
                written.update(
                    (key, (pk, "created" if created else "updated"))
                    for key, pk, created in raw.fetchall()
                )
            if not raw.nextset():
                break
        names, rows = _charge_rows(bookings=bookings, written=written)
        if rows:
            with raw.copy(f"COPY {Charge._meta.db_table} ({', '.join(names)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    return written


@dataclass(frozen=True, slots=True)
class _Stage:
    """The temporary table for one group of rows (one set of person and booking fields, and whether they report
    charges), and its COPY rows."""

    name: str
    create: str
    person: list[str]  # the person fields the group carries, in column order (staged as p_<field>)
    booking: list[str]  # the booking fields the group carries, in column order
    copied: list[str]
    row: Callable[[BookingItem], list[Any]]
    charges_reported: bool


def _stage(
    person_fields: frozenset[str], booking_fields: frozenset[str], charges_reported: bool
) -> _Stage:
    person_columns, booking_columns = _columns(Person), _columns(Booking)
    person = [name for name in person_columns if name in person_fields]
    booking = [name for name in booking_columns if name in booking_fields and name != "person_id"]
    # One table per set of columns, named after them; rows that do not report charges get a table of their
    # own (same columns), since its booking statement must not delete their charges.
    named = [*person, "|", *booking] + ([] if charges_reported else ["|", "charges not reported"])
    digest = hashlib.sha256(" ".join(named).encode()).hexdigest()[:16]
    name = f"import_stage_{digest}"
    copied = ["person_key", "person_hash", "person_last", "source_key", "content_hash"]
    copied += [f"p_{column}" for column in person] + booking
    create = (
        f"CREATE TEMP TABLE IF NOT EXISTS {name} AS SELECT p.source_key AS person_key, "  # noqa: S608
        "p.content_hash AS person_hash, true AS person_last, b.source_key, b.content_hash"
        + "".join(f", p.{column} AS p_{column}" for column in person)
        + "".join(f", b.{column}" for column in booking)
        + f" FROM {Person._meta.db_table} p, {Booking._meta.db_table} b WITH NO DATA"
    )
    person_enums = frozenset(c for c in person if person_columns[c].choices)
    booking_enums = frozenset(c for c in booking if booking_columns[c].choices)

    def row(item: BookingItem) -> list[Any]:
        people, values = item.person, item.values
        return (
            [item.person_key, item.person_hash, item.person_last, item.key, item.content_hash]
            + [_plain(people[c]) if c in person_enums else people[c] for c in person]
            + [_plain(values[c]) if c in booking_enums else values[c] for c in booking]
        )

    return _Stage(
        name=name,
        create=create,
        person=person,
        booking=booking,
        copied=copied,
        row=row,
        charges_reported=charges_reported,
    )


class StagedRow(NamedTuple):
    """A booking's row for the COPY into its staging table, and that table."""

    stage: _Stage
    values: list[Any]


_PERSON_LAST = 2  # where `person_last` sits in a staged row (see _stage)
_stages: dict[tuple[tuple[str, ...], tuple[str, ...], bool], _Stage] = {}


def row_stage(item: BookingItem) -> StagedRow:
    """The COPY row of `item` for PostgreSQL and its staging table (`person_last` is filled in when written).

    Pure Python on the item's values, so the import works it out on its reading thread while the previous
    batch is committed: on the benchmark the committing thread, waiting on the database most of the time, is
    the one that sets the pace, and this was a good part of its Python work. Staging tables are looked up by
    the row's field names in the order the format gives them (one tuple each: cheaper than the sets that name
    a table), so a format that always builds its dictionaries the same way costs one lookup a row.
    """
    key = (tuple(item.person), tuple(item.values), item.charges_reported)
    stage = _stages.get(key)
    if stage is None:
        stage = _stages.setdefault(key, _stage(frozenset(key[0]), frozenset(key[1]), key[2]))
    return StagedRow(stage, stage.row(item))


def _upsert_sql(
    *, model: type[Person] | type[Booking], source: str, stage: _Stage, context: Any
) -> str:
    """INSERT … SELECT from the staging table ON CONFLICT: writes only rows whose content hash changed."""
    table = model._meta.db_table
    columns = _columns(model)
    is_person = model is Person
    present = stage.person if is_person else stage.booking
    absent = [name for name in columns if name not in present and name != "person_id"]
    source_literal = sql.Literal(source).as_string(context)
    inserted = ["created_at", "updated_at", "source", "source_key", "content_hash", *present]
    if is_person:
        selected = ["now()", "now()", source_literal, "s.person_key", "s.person_hash"]
        selected += [f"s.p_{name}" for name in present]
        joined = " WHERE s.person_last"
    else:
        selected = ["now()", "now()", source_literal, "s.source_key", "s.content_hash"]
        selected += [f"s.{name}" for name in present]
        inserted.append("person_id")
        # A lookup per row through the (source, source_key) index, whatever the planner guesses about the
        # staging table: a join could read every person of the source, each batch.
        selected.append(
            f"(SELECT p.id FROM {Person._meta.db_table} p "  # noqa: S608
            f"WHERE p.source = {source_literal} AND p.source_key = s.person_key)"
        )
        joined = ""
    updated = [*present, "content_hash", "updated_at"] + ([] if is_person else ["person_id"])
    inserted += absent
    selected += [
        sql.Literal(_plain(columns[name].get_default())).as_string(context) for name in absent
    ]
    return (
        f"INSERT INTO {table} ({', '.join(inserted)}) SELECT {', '.join(selected)} "  # noqa: S608
        f"FROM {stage.name} s{joined} "
        "ON CONFLICT (source, source_key) DO UPDATE SET "
        + ", ".join(f"{name} = EXCLUDED.{name}" for name in updated)
        + f" WHERE {table}.content_hash IS DISTINCT FROM EXCLUDED.content_hash"
    )


def _booking_sql(*, source: str, stage: _Stage, context: Any) -> str:
    """Upsert the bookings and, in the same statement, delete the charges of those updated (new ones follow).

    A stage of rows that do not report charges deletes none: their bookings keep the charges they have.
    """
    upsert = _upsert_sql(model=Booking, source=source, stage=stage, context=context)
    if not stage.charges_reported:
        return f"{upsert} RETURNING source_key, id, (xmax = 0) AS created"
    charges = Charge._meta.db_table
    return (
        f"WITH written AS ({upsert} RETURNING source_key, id, (xmax = 0) AS created), "  # noqa: S608
        f"gone AS (DELETE FROM {charges} c USING written w "
        "WHERE c.booking_id = w.id AND NOT w.created) "
        "SELECT source_key, id, created FROM written"
    )


def _charge_rows(
    *, bookings: Sequence[BookingItem], written: Mapping[str, tuple[int, Status]]
) -> tuple[list[str], list[list[Any]]]:
    """COPY rows for the charges of the written bookings; `sequence` is the position unless a charge has one."""
    columns = _columns(Charge)
    names = list(columns)
    defaults = {name: columns[name].get_default() for name in names}
    rows = []
    for booking in bookings:
        if booking.charges and booking.key in written:
            booking_id = written[booking.key][0]
            for position, charge in enumerate(booking.charges, start=1):
                values = {**defaults, "sequence": position, **charge, "booking_id": booking_id}
                rows.append([_plain(values[name]) for name in names])
    return names, rows
