"""Import a roster file into people, bookings and charges: streaming, batched, idempotent and resumable.

A format (gateway.importers) turns the file into plain `ParsedBooking` / `RowRejection` values; this service
writes them in batches, each batch one transaction that also advances the run's counts and `resume_line`. So:

* every row read is counted exactly once as created, updated, unchanged or rejected, and the run's counts add up
  after every batch, not only at the end (ImportRun has a check constraint on completed runs);
* re-importing the same file changes nothing: rows are upserted on (source, source_key) and a row whose
  content hash matches the stored one is counted unchanged and not written;
* a run killed halfway is continued by the next run of the same file: it picks up the unfinished ImportRun and
  skips the lines it had committed. Even without that, idempotency alone would prevent duplicates.

Speed: a batch costs a fixed handful of queries whatever its size (look up existing keys, one upsert per table
with `bulk_create(update_conflicts=True)`, re-read new ids), never a query per row. Images are the exception:
each is stored (or, for an unchanged booking, validated) on its own. A refused image never costs the booking
its row: the booking is kept without it, and the refusal is reported under `mugshot_rejections` (stored as an
ImportRejection with field "mugshot" that is not counted in `rejected`, which counts rows).
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent import futures
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from gateway.exceptions import GatewayError, GatewayErrorCode
from gateway.importers.base import (
    FormatOptions,
    ParsedBooking,
    ParsedRow,
    RowRejection,
    repeats_are_updates,
)
from gateway.importers.registry import format_build
from gateway.importers.upsert import BookingItem, batch_write
from gateway.models import Booking, Charge, ImportRejection, ImportRun, ImportStatus, Person

__all__ = ["MUGSHOT_FIELD", "ImportReport", "bookings_import"]

BATCH_SIZE = 2000

# The ImportRejection.field of a refused image, which is not a rejected row. A format's own row rejection is
# never stored under this name (see _BatchWriter.add), so the two cannot be confused when the report is read.
MUGSHOT_FIELD = "mugshot"


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What a run did, as written to the --report JSON file."""

    run_id: int
    format: str
    path: str
    status: str
    read: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    rejections: tuple[Mapping[str, Any], ...]
    mugshot_rejections: tuple[Mapping[str, Any], ...]
    dropped_fields: tuple[str, ...]
    resumed_after_line: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "format": self.format,
            "path": self.path,
            "status": self.status,
            "read": self.read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "rejections": [dict(rejection) for rejection in self.rejections],
            "mugshots_rejected": len(self.mugshot_rejections),
            "mugshot_rejections": [dict(rejection) for rejection in self.mugshot_rejections],
            "dropped_fields": list(self.dropped_fields),
            "dropped_fields_note": (
                "Citizenship, immigration status and place of birth are never stored "
                "(rules.md IM-05, IM-06, IM-09); these source columns were read past and discarded."
            ),
            "resumed_after_line": self.resumed_after_line,
        }


def bookings_import(
    *,
    path: Path,
    format_name: str,
    mapping: Path | None = None,
    encoding: str = "utf-8",
    batch_size: int = BATCH_SIZE,
    progress: bool = False,
) -> ImportReport:
    """Import `path` with the named format and return the run's report.

    Raises GatewayError (IMPORT_FORMAT_UNKNOWN, IMPORT_FILE_UNREADABLE, IMPORT_MAPPING_INVALID) when nothing can
    be imported; the run is then recorded as failed with the message. A single bad row never raises: it is
    rejected with its line, field, raw value and reason.
    """
    importer = format_build(
        name=format_name, options=FormatOptions(mapping=mapping, encoding=encoding)
    )
    if not path.exists():
        raise GatewayError(f"{path} does not exist.", code=GatewayErrorCode.IMPORT_FILE_UNREADABLE)
    run = _run_start(
        format_name=format_name, path=path, reading=f"{encoding}|{_mapping_text(mapping)}"
    )
    resumed_after = run.resume_line
    repeats = repeats_are_updates(importer)
    completed = False
    try:
        writer = _BatchWriter(
            repeats_update=repeats, later=_later_states(importer.parse(path)) if repeats else {}
        )
        rows = _progress(importer.parse(path), enabled=progress, total=_line_count(path, progress))
        with _Committer(source=importer.source, run=run) as committer:
            for row in rows:
                if resumed_after and row.line <= resumed_after:
                    continue
                if writer.holds(
                    row
                ):  # a later message for a booking of this batch: write that first
                    committer.submit(writer.take())
                writer.add(row)
                if len(writer) >= batch_size:
                    committer.submit(writer.take())
            committer.submit(writer.take())
        completed = True
    finally:
        _run_finish(run=run, completed=completed, error=sys.exc_info()[1])
    return _report(run=run, resumed_after=resumed_after)


def _mapping_text(mapping: Path | None) -> str:
    if mapping is None or not mapping.is_file():
        return ""
    return mapping.read_text(encoding="utf-8", errors="replace")


def _run_start(*, format_name: str, path: Path, reading: str) -> ImportRun:
    """Continue the unfinished run of this very file if there is one, else start a new run.

    "This very file" is the same path, the same bytes and the same way of reading them (encoding, mapping):
    resuming after line N is only right if line N means what it meant last time.
    """
    digest = _path_sha256(path, reading=reading)
    unfinished = (
        ImportRun.objects.filter(
            source_format=format_name,
            path=str(path.resolve()),
            file_sha256=digest,
            status__in=[ImportStatus.RUNNING, ImportStatus.FAILED],
        )
        .order_by("-id")
        .first()
    )
    if unfinished is not None:
        unfinished.status = ImportStatus.RUNNING
        unfinished.error = ""
        unfinished.save(update_fields=["status", "error"])
        return unfinished
    return ImportRun.objects.create(
        source_format=format_name, path=str(path.resolve()), file_sha256=digest
    )


def _run_finish(*, run: ImportRun, completed: bool, error: BaseException | None) -> None:
    run.status = ImportStatus.COMPLETED if completed else ImportStatus.FAILED
    run.finished_at = timezone.now()
    if error is not None:
        run.error = getattr(error, "message", None) or f"{type(error).__name__}: {error}"
    run.save(update_fields=["status", "finished_at", "error"])


def _report(*, run: ImportRun, resumed_after: int) -> ImportReport:
    rows: list[Mapping[str, Any]] = []
    images: list[Mapping[str, Any]] = []
    for line, field_name, value, reason in run.rejections.order_by("line", "id").values_list(
        "line", "field", "value", "reason"
    ):
        entry = {"line": line, "field": field_name, "value": value, "reason": reason}
        (images if field_name == MUGSHOT_FIELD else rows).append(entry)
    return ImportReport(
        run_id=run.pk,
        format=run.source_format,
        path=run.path,
        status=run.status,
        read=run.read,
        created=run.created,
        updated=run.updated,
        unchanged=run.unchanged,
        rejected=run.rejected,
        rejections=tuple(rows),
        mugshot_rejections=tuple(images),
        dropped_fields=tuple(run.dropped_fields),
        resumed_after_line=resumed_after,
    )


def _path_sha256(path: Path, *, reading: str) -> str:
    """Hash of the file, or of every file of a folder in name order, so a changed file starts a new run."""
    digest = hashlib.sha256(reading.encode())
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        digest.update(file.name.encode())
        with file.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def _line_count(path: Path, progress: bool) -> int | None:
    if not progress or path.is_dir():
        return None
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def _progress(
    rows: Iterator[ParsedRow], *, enabled: bool, total: int | None
) -> Iterable[ParsedRow]:
    """A tqdm bar on stderr when asked for (the command asks only when stderr is a terminal)."""
    if not enabled:
        return rows
    from tqdm import tqdm

    return tqdm(rows, total=total, unit=" rows", file=sys.stderr, mininterval=0.5)


# ---------------------------------------------------------------------------------------------------------
# Validation of the plain values against the model, so a batch never fails in the database.


@dataclass(frozen=True, slots=True)
class _FieldRule:
    """What one model field can hold, worked out once instead of asking the field for every value."""

    nullable: bool
    choices: frozenset[str] | None
    max_length: int | None
    decimal_limit: Decimal | None


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
    return None


def _row_check(row: ParsedBooking) -> RowRejection | None:
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
class _Pending(BookingItem):
    """A checked and hashed row waiting in a batch: what the database side needs, and the row it came from."""

    row: ParsedBooking
    # For a row a later row of the same file replaces (a booking message followed by its release): the hash of
    # that last row. If the database already holds it, this row is history already applied, not a change.
    final_hash: str | None


@dataclass
class _Batch:
    """One batch's rows, handed from the reading side to the committing side."""

    pending: list[_Pending]
    rejections: list[RowRejection]
    last_line: int
    dropped: set[str]


def _row_hashes(row: ParsedBooking) -> tuple[str, str]:
    """(person hash, row hash) of a row: the row hash covers person, booking, charges and image bytes."""
    mugshot_hashes = (
        [hashlib.sha256(m.data).hexdigest() for m in row.mugshots] if row.mugshots else []
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
            row.charges,
            [(h, m.pose, m.captured_at) for h, m in zip(mugshot_hashes, row.mugshots, strict=True)],
        )
    )
    return person_hash, row_hash


def _later_states(rows: Iterable[ParsedRow]) -> dict[str, tuple[int, str]]:
    """Booking key -> (last line, row hash) for every booking that more than one valid row of the file carries.

    A first pass over a file whose later rows update earlier ones (NIEM messages). Without it a re-import could
    not tell "the stored booking is this file's last message" from "this file's first message is news", and
    would rewrite every released booking twice. It costs a second parse and, like the in-file duplicate check
    of the other formats, memory that grows with the number of bookings (a key, a line and a hash each).
    """
    last: dict[str, tuple[int, str] | None] = {}
    for row in rows:
        if isinstance(row, ParsedBooking) and _row_check(row) is None:
            # None marks a key seen once: a hash is only worked out once a second row shows it is needed.
            key = row.booking_key
            last[key] = (row.line, _row_hashes(row)[1]) if key in last else None
    return {key: state for key, state in last.items() if state is not None}


@dataclass
class _BatchWriter:
    """Collects rows, validated and hashed, until a batch is taken for commit.

    With `repeats_update` (see gateway.importers.base.repeats_are_updates) a later row for a booking already read
    is an update, applied in file order: the caller writes the batch holding the earlier row first. Otherwise it
    is rejected as a duplicate naming the first line.
    """

    repeats_update: bool = False
    later: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    pending: list[_Pending] = field(default_factory=list)
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

    def take(self) -> _Batch:
        batch = _Batch(self.pending, self.rejections, self.last_line, set(self.dropped))
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
        problem = _row_check(row)
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
        final_hash = last[1] if last is not None and last[0] > row.line else None
        self.pending.append(
            _Pending(
                row.booking_key,
                row_hash,
                row.booking,
                row.person_key,
                person_hash,
                row.person,
                row.charges,
                True,
                row,
                final_hash,
            )
        )
        if self.repeats_update:
            self.pending_keys.add(row.booking_key)


class _Committer:
    """Commits batches on one background thread, in order, while the caller reads and checks the next batch.

    Half of an import's time is the database working (index and constraint upkeep, commit) while Python waits
    for it; the other half is Python parsing rows while the database idles. Overlapping the two is the way to
    the speed target on two cores. What does not change: batches are committed one at a time, in file order,
    each in its own transaction advancing the run's counts and resume line, so resuming, idempotency and the
    counts are exactly as without the thread. At most two batches are in memory (one written, one filling):
    `submit` waits for the previous batch first, and re-raises its error, so a failed batch stops the run.

    The thread uses the caller's own database connection (Django allows sharing one between threads that never
    use it at the same time, as here: the formats never touch the database). So an import inside a transaction,
    as in tests, stays inside it.

    The interpreter lock: each time the committing thread has waited for the database, it needs the lock back
    from the parsing thread, which by default hands it over only every 5 ms. A batch makes a dozen such waits,
    so while an import runs the switch interval is lowered to 0.5 ms (and put back after): measured, that is
    about a fifth more rows a second; parsing pays a few more lock hand-overs, nothing else changes.
    """

    SWITCH_INTERVAL = 0.0005

    def __init__(self, *, source: str, run: ImportRun) -> None:
        self._source, self._run = source, run
        self._connection = connections[DEFAULT_DB_ALIAS]
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-commit")
        self._inflight: Future[None] | None = None
        self._prepared: set[str] = set()  # staging tables made ready (see upsert.batch_write)
        self._switch_interval = sys.getswitchinterval()

    def __enter__(self) -> _Committer:
        self._connection.inc_thread_sharing()
        self._pool.submit(_connection_share, self._connection).result()
        sys.setswitchinterval(min(self._switch_interval, self.SWITCH_INTERVAL))
        return self

    def submit(self, batch: _Batch) -> None:
        self._wait()
        if batch.pending or batch.rejections:
            self._inflight = self._pool.submit(
                _batch_commit,
                source=self._source,
                run=self._run,
                batch=batch,
                prepared=self._prepared,
            )

    def _wait(self) -> None:
        inflight, self._inflight = self._inflight, None
        if inflight is not None:
            inflight.result()

    def __exit__(self, error_type: type[BaseException] | None, *_: object) -> None:
        try:
            if error_type is None:
                self._wait()
            else:  # the caller's error is the one to report; still let the batch in flight finish
                futures.wait([self._inflight] if self._inflight else [])
        finally:
            sys.setswitchinterval(self._switch_interval)
            self._pool.submit(_connection_unshare).result()
            self._pool.shutdown()
            self._connection.dec_thread_sharing()


def _connection_share(connection: BaseDatabaseWrapper) -> None:
    connections[DEFAULT_DB_ALIAS] = connection


def _connection_unshare() -> None:
    del connections[DEFAULT_DB_ALIAS]


def _batch_commit(*, source: str, run: ImportRun, batch: _Batch, prepared: set[str]) -> None:
    """Write one batch and advance the run's counts and resume line, all in one transaction."""
    if not batch.pending and not batch.rejections:
        return
    with transaction.atomic():
        counts = {"created": 0, "updated": 0, "unchanged": len(batch.pending)}
        applied = _applied_history(source=source, pending=batch.pending)
        skipped = {id(p) for p in applied}
        written = _rows_write(
            source=source,
            rows=[p for p in batch.pending if id(p) not in skipped],
            prepared=prepared,
        )
        for _, status in written.values():
            counts[status] += 1
            counts["unchanged"] -= 1
        refused = _mugshots_store(
            pending=[p for p in batch.pending if p.row.mugshots], written=written
        )
        ImportRejection.objects.bulk_create(
            [
                ImportRejection(
                    run=run, line=r.line, field=r.field[:100], value=r.value, reason=r.reason[:300]
                )
                for r in [*batch.rejections, *refused]
            ]
        )
        run.created += counts["created"]
        run.updated += counts["updated"]
        run.unchanged += counts["unchanged"]
        run.rejected += len(
            batch.rejections
        )  # rows only: a refused image leaves its booking imported
        run.read = run.created + run.updated + run.unchanged + run.rejected
        run.resume_line = max(run.resume_line, batch.last_line)
        run.dropped_fields = sorted(set(run.dropped_fields) | batch.dropped)
        run.save(
            update_fields=[
                "created",
                "updated",
                "unchanged",
                "rejected",
                "read",
                "resume_line",
                "dropped_fields",
            ]
        )


def _applied_history(*, source: str, pending: Sequence[_Pending]) -> list[_Pending]:
    """The rows a later row of the file replaces whose booking already holds that later row's content.

    Applying them would only rewrite the booking to an older state and back: on re-importing a folder of
    booking and release messages every message is then unchanged, as a re-import must be.
    """
    replaced = {p.key: p for p in pending if p.final_hash is not None}
    if not replaced:
        return []
    stored = Booking.objects.filter(source=source, source_key__in=list(replaced)).values_list(
        "source_key", "content_hash"
    )
    return [
        replaced[key] for key, content_hash in stored if content_hash == replaced[key].final_hash
    ]


def _mugshots_store(
    *, pending: Sequence[_Pending], written: Mapping[str, tuple[int, str]]
) -> list[RowRejection]:
    """Store the images of written bookings; return one refusal per image `mugshot_store` refused.

    The images of an unchanged booking were stored by an earlier run (its hash covers them), so they are only
    validated again, to report a refused one in every run's report rather than only in the first. Nothing is
    written before an image passes validation, so a refusal needs no savepoint.
    """
    from gateway.services.mugshots import ImageRejectedError, mugshot_store, mugshot_validate

    if not pending:
        return []
    ids = [written[p.key][0] if p.key in written else 0 for p in pending]
    bookings = Booking.objects.in_bulk([pk for pk in ids if pk])
    refused = []
    for item, pk in zip(pending, ids, strict=True):
        for mugshot in item.row.mugshots:
            try:
                if pk:
                    mugshot_store(
                        booking=bookings[pk],
                        data=mugshot.data,
                        pose=mugshot.pose,
                        captured_at=mugshot.captured_at,
                    )
                else:
                    mugshot_validate(data=mugshot.data)
            except ImageRejectedError as error:
                refused.append(
                    RowRejection(
                        line=item.row.line,
                        field=MUGSHOT_FIELD,
                        value=f"<{len(mugshot.data)} bytes>",
                        reason=f"{error.message} ({error.reason})",
                    )
                )
    return refused


def _rows_write(
    *, source: str, rows: Sequence[_Pending], prepared: set[str]
) -> dict[str, tuple[int, str]]:
    """Upsert the people, bookings and charges of `rows`; booking key -> (id, created/updated) of those written.

    A row whose booking is not in the result was unchanged: nothing of it was written.
    """
    last = {
        pending.person_key: pending for pending in rows
    }  # a person in several rows: the last wins
    for pending in rows:
        pending.person_last = last[pending.person_key] is pending
    return batch_write(source=source, bookings=rows, prepared=prepared)
