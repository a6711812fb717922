"""The database side of an import batch: upsert people and bookings on (source, source_key), replace charges.

Used only by the import service, which owns the transaction. One function, `batch_write`, with two
implementations of one contract:

* PostgreSQL: COPY the people and bookings (each with its person's key) into temporary staging tables, then
  ONE multi-statement round trip does the rest in the database: `INSERT … SELECT … ON CONFLICT (source,
  source_key) DO UPDATE … WHERE content_hash IS DISTINCT FROM …` for the people, the same for the bookings
  (their person ids found by joining on the person's key, so no id has to travel to Python and back),
  `RETURNING source_key, id, (xmax = 0)` of the bookings kept in a staging table, the old charges of updated
  bookings deleted, and the written bookings selected back. The database both classifies each booking
  (inserted, updated, or not written because unchanged) and skips writing unchanged rows. Then the charges of
  the written bookings alone are COPYed. No ORM instances, no per-value Python adaptation, and a fixed handful
  of round trips per batch whatever its size, which matters twice: each round trip also costs the committing
  thread a wait for the interpreter lock (see `services.imports._Committer`).
* Anything else (SQLite for development and tests): the ORM with `bulk_create(update_conflicts=True)`.

Only the fields a row carries are updated on conflict (rows are grouped by their field sets), so a file that does
not publish a field never blanks what another file of the same source stored. New rows get the model defaults
for the fields they lack.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, models
from psycopg import sql

# SQL here is built from model metadata (table and column names) and values quoted by psycopg's sql.Literal;
# row values travel by COPY. Hence the S608 exemptions below.
from gateway.models import Booking, Charge, Person

__all__ = ["BookingItem", "UpsertItem", "batch_write"]

Status = str  # "created" | "updated" (an unchanged booking is not returned)
_AUTOMATIC = {"id", "source", "source_key", "content_hash", "created_at", "updated_at"}


@dataclass(frozen=True, slots=True)
class UpsertItem:
    """One person to upsert: its key, the hash of its content, and its field values by attname."""

    key: str
    content_hash: str
    values: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class BookingItem:
    """One booking to upsert, the key of its person (in the same batch) and its charges in the jail's order.

    A charge's `sequence` is its 1-based position unless the charge gives one.
    """

    key: str
    content_hash: str
    person_key: str
    values: Mapping[str, Any]
    charges: Sequence[Mapping[str, Any]] = ()


def batch_write(
    *, source: str, people: Sequence[UpsertItem], bookings: Sequence[BookingItem]
) -> dict[str, tuple[int, Status]]:
    """Upsert `people` and `bookings` (unique keys each) and replace the charges of every booking written.

    Returns booking key -> (id, "created" or "updated") for the bookings written; a booking of the batch that is
    not returned was unchanged, and nothing of it (charges included) was written.
    """
    if not people and not bookings:
        return {}
    if connection.vendor == "postgresql":
        return _pg_write(source=source, people=people, bookings=bookings)
    return _orm_write(source=source, people=people, bookings=bookings)


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


def _orm_write(
    *, source: str, people: Sequence[UpsertItem], bookings: Sequence[BookingItem]
) -> dict[str, tuple[int, Status]]:
    person_ids = _orm_upsert(model=Person, source=source, items=people)
    booking_items = [
        UpsertItem(b.key, b.content_hash, {**b.values, "person_id": person_ids[b.person_key][0]})
        for b in bookings
    ]
    statuses = _orm_upsert(model=Booking, source=source, items=booking_items)
    written = {key: state for key, state in statuses.items() if state[1] != "unchanged"}
    updated = [pk for pk, status in written.values() if status == "updated"]
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
    *, model: type[Person] | type[Booking], source: str, items: Sequence[UpsertItem]
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
# PostgreSQL: COPY into staging tables, then one round trip of set-based statements.


# A staging table is emptied with DELETE, which costs nothing for one batch, and TRUNCATEd every so many
# batches, which costs a few milliseconds but keeps the dead rows DELETE leaves (a temporary table is never
# vacuumed) from piling up for the statements that read it.
_TRUNCATE_EVERY = 20
_stage_uses = itertools.count()


def _pg_write(
    *, source: str, people: Sequence[UpsertItem], bookings: Sequence[BookingItem]
) -> dict[str, tuple[int, Status]]:
    empty = "TRUNCATE" if next(_stage_uses) % _TRUNCATE_EVERY == 0 else "DELETE FROM"
    prepare: list[str] = []
    writes: list[str] = []
    copies: list[tuple[str, list[str], list[list[Any]]]] = []
    with connection.cursor() as cursor:
        raw = cursor.cursor
        for present, group in _groups(people).items():
            stage = _stage(Person, present, person_key=False)
            prepare += [stage.create, f"{empty} {stage.name}"]
            writes.append(_upsert_sql(model=Person, source=source, stage=stage, context=raw))
            copies.append((stage.name, stage.copied, [stage.row(item) for item in group]))
        for present, group in _groups(bookings).items():
            stage = _stage(Booking, present, person_key=True)
            prepare += [stage.create, f"{empty} {stage.name}"]
            writes.append(_booking_sql(source=source, stage=stage, context=raw))
            copies.append((stage.name, stage.copied, [stage.row(item) for item in group]))
        cursor.execute(";\n".join(prepare))  # no parameters: sent together, in one round trip
        for table, names, rows in copies:
            _copy(raw, table=table, names=names, rows=rows)
        cursor.execute(";\n".join(writes))
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
        _copy(raw, table=Charge._meta.db_table, names=names, rows=rows)
    return written


def _copy(raw: Any, *, table: str, names: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    if rows:
        with raw.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


@dataclass(frozen=True, slots=True)
class _Stage:
    """A temporary table for one group of rows (one set of fields) of one model, and how rows go into it."""

    name: str
    create: str
    present: list[str]  # the model fields the group carries, in column order
    copied: list[str]  # the staged columns: key, content hash, [person key,] present fields
    row: Callable[[Any], list[Any]]  # an UpsertItem or BookingItem -> its COPY row


def _stage(
    model: type[Person] | type[Booking], fields: frozenset[str], *, person_key: bool
) -> _Stage:
    columns = _columns(model)
    present = [name for name in columns if name in fields and name != "person_id"]
    table = model._meta.db_table
    name = f"import_stage_{table}_{len(present)}_{abs(hash(tuple(present))) % 10**8}"
    extra = ["person_key"] if person_key else []
    copied = ["source_key", "content_hash", *extra, *present]
    create = (
        f"CREATE TEMP TABLE IF NOT EXISTS {name} AS SELECT source_key, content_hash"  # noqa: S608
        + (", ''::varchar(200) AS person_key" if person_key else "")
        + "".join(f", {column}" for column in present)
        + f" FROM {table} WITH NO DATA"
    )
    enums = frozenset(column for column in present if columns[column].choices)

    def row(item: Any) -> list[Any]:
        values = item.values
        head = (
            [item.key, item.content_hash, item.person_key]
            if person_key
            else [item.key, item.content_hash]
        )
        if enums:
            return head + [_plain(values[c]) if c in enums else values[c] for c in present]
        return head + [values[c] for c in present]

    return _Stage(name=name, create=create, present=present, copied=copied, row=row)


def _upsert_sql(
    *, model: type[Person] | type[Booking], source: str, stage: _Stage, context: Any
) -> str:
    """INSERT … SELECT from the staging table ON CONFLICT: writes only rows whose content hash changed."""
    table = model._meta.db_table
    columns = _columns(model)
    absent = [name for name in columns if name not in stage.present and name != "person_id"]
    source_literal = sql.Literal(source).as_string(context)
    inserted = ["created_at", "updated_at", "source", "source_key", "content_hash", *stage.present]
    selected = ["now()", "now()", source_literal, "s.source_key", "s.content_hash"]
    selected += [f"s.{name}" for name in stage.present]
    updated = [*stage.present, "content_hash", "updated_at"]
    joined = ""
    if model is Booking:
        inserted.append("person_id")
        selected.append("p.id")
        updated.append("person_id")
        joined = (
            f" LEFT JOIN {Person._meta.db_table} p "
            f"ON p.source = {source_literal} AND p.source_key = s.person_key"
        )
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
    """Upsert the bookings and, in the same statement, delete the charges of those updated (new ones follow)."""
    upsert = _upsert_sql(model=Booking, source=source, stage=stage, context=context)
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
