"""The writing side of an import: commit batches in order on a background thread, store images, skip history.

Split out of `imports` to keep modules small; see `imports` for what an import guarantees.
"""

from __future__ import annotations

import enum
import gc
import sys
from collections.abc import Mapping, Sequence
from concurrent import futures
from concurrent.futures import Future, ThreadPoolExecutor

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from gateway.models import Booking, Charge, ImportRejection, ImportRun
from gateway.records.importers.base import RowRejection
from gateway.records.importers.upsert import batch_write
from gateway.records.importing.rows import MUGSHOT_FIELD, Batch, Pending

__all__ = ["Committer"]


class Committer:
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
    from the parsing thread, which by default hands it over only every 5 ms. A batch makes several such waits
    (begin, COPY, the statements, commit), so while an import runs the switch interval is lowered to 0.5 ms
    (and put back after): on the benchmark that was about a fifth more rows a second; parsing pays a few more
    lock hand-overs, nothing else changes.

    The cycle collector: its occasional full collection walked every object of the process (Django's included,
    about 100,000) while holding the interpreter lock, 40-50 ms once or twice an import, a tenth of the
    benchmark's time. While an import runs, the objects that existed before it are frozen out of collection
    (`gc.freeze`), so a collection walks only what the import made; they are unfrozen after. Garbage is still
    collected as before, so memory stays flat however long the file.
    """

    SWITCH_INTERVAL = 0.0005

    def __init__(self, *, source: str, run: ImportRun) -> None:
        self._source, self._run = source, run
        self._connection = connections[DEFAULT_DB_ALIAS]
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-commit")
        self._inflight: Future[None] | None = None
        self._prepared: dict[
            str, list[int]
        ] = {}  # staging tables made ready (see upsert.batch_write)
        self._switch_interval = sys.getswitchinterval()

    def __enter__(self) -> Committer:
        self._connection.inc_thread_sharing()
        self._pool.submit(_connection_share, self._connection).result()
        sys.setswitchinterval(min(self._switch_interval, self.SWITCH_INTERVAL))
        gc.freeze()
        return self

    def submit(self, batch: Batch) -> None:
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
            gc.unfreeze()
            sys.setswitchinterval(self._switch_interval)
            self._pool.submit(_connection_unshare).result()
            self._pool.shutdown()
            self._connection.dec_thread_sharing()


def _connection_share(connection: BaseDatabaseWrapper) -> None:
    connections[DEFAULT_DB_ALIAS] = connection


def _connection_unshare() -> None:
    del connections[DEFAULT_DB_ALIAS]


def _batch_commit(
    *, source: str, run: ImportRun, batch: Batch, prepared: dict[str, list[int]]
) -> None:
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
                    run=run,
                    line=r.line,
                    location=r.where[:200],
                    field=r.field[:100],
                    reason=r.reason[:300],
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


def _applied_history(*, source: str, pending: Sequence[Pending]) -> list[Pending]:
    """The rows a later row of the file replaces whose booking already holds that later row's content.

    Applying them would only rewrite the booking to an older state and back: on re-importing a folder of
    booking and release messages every message is then unchanged, as a re-import must be.

    When the last row does not report charges (a release message), its hash says nothing about them: the
    booking may hold that release and still lack the charges of the booking message (the release was imported
    first, alone). So the row that last reports the charges is history only if the stored charges are its own.
    """
    replaced = {p.key: p for p in pending if p.final_hash is not None}
    if not replaced:
        return []
    stored = Booking.objects.filter(source=source, source_key__in=list(replaced)).values_list(
        "source_key", "id", "content_hash"
    )
    applied = {
        pk: replaced[key]
        for key, pk, content_hash in stored
        if content_hash == replaced[key].final_hash
    }
    to_compare = [pk for pk, p in applied.items() if p.charges_final]
    if to_compare:
        charges = _stored_charges(booking_ids=to_compare)
        for pk in to_compare:
            if not _charges_match(parsed=applied[pk].charges, stored=charges.get(pk, {})):
                del applied[pk]
    return list(applied.values())


# The charge columns a row can give, named (tests/test_architecture.py: no queryset dumps every column). A
# field added to Charge and not here compares as unequal, so its row is applied again: never wrongly skipped.
_CHARGE_COLUMNS = (
    "booking_id",
    "sequence",
    "statute",
    "description",
    "level",
    "disposition",
    "bond_amount",
    "bond_type",
    "case_number",
)


def _stored_charges(*, booking_ids: Sequence[int]) -> dict[int, dict[int, dict[str, object]]]:
    """Booking id -> sequence -> the stored charge's field values."""
    charges: dict[int, dict[int, dict[str, object]]] = {}
    for values in Charge.objects.filter(booking_id__in=booking_ids).values(*_CHARGE_COLUMNS):
        charges.setdefault(values["booking_id"], {})[values["sequence"]] = dict(values)
    return charges


def _charges_match(
    *, parsed: Sequence[Mapping[str, object]], stored: Mapping[int, Mapping[str, object]]
) -> bool:
    """Whether the stored charges are the parsed ones: the same number, and every value a row gives (a field
    it leaves out holds the model default, which is what a write of this row would leave as well)."""
    if len(parsed) != len(stored):
        return False
    for position, charge in enumerate(parsed, start=1):
        held = stored.get(_sequence(charge, position))
        if held is None or any(held.get(name) != _plain(value) for name, value in charge.items()):
            return False
    return True


def _sequence(charge: Mapping[str, object], position: int) -> int:
    sequence = charge.get("sequence", position)
    return sequence if isinstance(sequence, int) else position


def _plain(value: object) -> object:
    return value.value if isinstance(value, enum.Enum) else value


def _mugshots_store(
    *, pending: Sequence[Pending], written: Mapping[str, tuple[int, str]]
) -> list[RowRejection]:
    """Store the images of written bookings; return one refusal per image `mugshot_store` refused.

    The images of an unchanged booking were stored by an earlier run (its hash covers them), so they are only
    validated again, to report a refused one in every run's report rather than only in the first. Nothing is
    written before an image passes validation, so a refusal needs no savepoint.
    """
    from gateway.records.mugshots import ImageRejectedError, mugshot_store, mugshot_validate

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
                        reason=f"{mugshot.name or 'image'}: {error.message} ({error.reason})",
                        where=mugshot.name,
                    )
                )
    return refused


def _rows_write(
    *, source: str, rows: Sequence[Pending], prepared: dict[str, list[int]]
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
