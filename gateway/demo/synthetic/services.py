"""county_generate: fill the records model with a synthetic Milwaukee-like county.

Keys are `s<seed>-p<number>` for people and `s<seed>-b<number>` for bookings within the chosen source, and a
county is prefix-stable (see rows.py), so running the same seed into the same source again never duplicates:
bookings that exist are skipped, a larger --bookings extends the county and a killed run resumes. Each chunk is
written in its own transaction, so memory stays flat at any size and a stop loses at most one chunk.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from gateway.demo.synthetic.mugshots import mugshot_columns
from gateway.demo.synthetic.pools import NamePools, name_pools_build
from gateway.demo.synthetic.rows import (
    PERSONS_PER_CHUNK,
    ChunkRows,
    chunk_booking_counts,
    chunk_rows_generate,
)
from gateway.demo.synthetic.writers import ids_reserve, on_postgresql, rows_write, tables_lock
from gateway.records.models import Booking, Charge, Mugshot, Person

__all__ = ["CountyStats", "SyntheticCountyError", "SyntheticErrorCode", "county_generate"]

_SOURCE_MAX = 40  # Person.source / Booking.source max_length
_KEY_BATCH = 5000  # keys per IN (...) query, well under SQLite's variable limit
_MUGSHOT_SHARE = 0.97  # a few bookings never got a photo


class SyntheticErrorCode(StrEnum):
    BOOKINGS_INVALID = "synthetic_bookings_invalid"
    SEED_INVALID = "synthetic_seed_invalid"
    SOURCE_INVALID = "synthetic_source_invalid"
    SOURCE_HOLDS_REAL_RECORDS = "synthetic_source_holds_real_records"


class SyntheticCountyError(Exception):
    """Refusal to generate, with a stable `code`; nothing has been written when it is raised."""

    def __init__(self, message: str, *, code: SyntheticErrorCode) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class CountyStats:
    """What one run did. `bookings_existing` were already there from an earlier run and were skipped."""

    source: str
    seed: int
    bookings_requested: int
    bookings_created: int
    bookings_existing: int
    persons_created: int
    charges_created: int
    mugshots_created: int
    writer: str  # "copy" (PostgreSQL) or "bulk_create"
    seconds: float


@dataclass
class _Totals:
    bookings_created: int = 0
    bookings_existing: int = 0
    persons_created: int = 0
    charges_created: int = 0
    mugshots_created: int = 0


def county_generate(
    *,
    bookings: int,
    seed: int,
    mugshots: bool = False,
    source: str = "synthetic",
    progress: bool = False,
    on_chunk: Callable[[int], None] | None = None,
) -> CountyStats:
    """Make sure the first `bookings` bookings of county `seed` exist in `source`, creating what is missing.

    Deterministic for a seed (and Faker version). `mugshots` adds a synthetic placeholder photo to the bookings
    this run creates, except removed ones (165.84 removal returns the photo). `progress` draws a bar on
    stderr; `on_chunk` is called with the number of bookings done after each chunk (benchmarks sample memory
    with it). Refuses a source that already holds records not made by this generator.
    """
    _arguments_check(bookings=bookings, seed=seed, source=source)
    started = time.perf_counter()
    pools = name_pools_build(seed=seed)
    totals = _Totals()
    with tqdm(
        total=bookings, unit="booking", unit_scale=True, file=sys.stderr, disable=not progress
    ) as bar:
        for chunk, start, count in _chunks(seed=seed, bookings=bookings):
            done = _chunk_write(
                pools=pools,
                seed=seed,
                source=source,
                chunk=chunk,
                start=start,
                stop=min(start + count, bookings),
                mugshots=mugshots,
                totals=totals,
            )
            bar.update(done)
            if on_chunk is not None:
                on_chunk(min(start + count, bookings))
    return CountyStats(
        source=source,
        seed=seed,
        bookings_requested=bookings,
        writer="copy" if on_postgresql() else "bulk_create",
        seconds=round(time.perf_counter() - started, 3),
        **totals.__dict__,
    )


def _arguments_check(*, bookings: int, seed: int, source: str) -> None:
    if bookings < 1:
        raise SyntheticCountyError(
            f"--bookings must be 1 or more, not {bookings}.",
            code=SyntheticErrorCode.BOOKINGS_INVALID,
        )
    if seed < 0:
        raise SyntheticCountyError(
            f"--seed must be 0 or more, not {seed}.", code=SyntheticErrorCode.SEED_INVALID
        )
    if not source or len(source) > _SOURCE_MAX or not source.isprintable():
        raise SyntheticCountyError(
            f"--source must be 1 to {_SOURCE_MAX} printable characters.",
            code=SyntheticErrorCode.SOURCE_INVALID,
        )
    # Mixing invented people into a real jail's source would corrupt it beyond repair.
    foreign = Booking.objects.filter(source=source).exclude(
        source_key__regex=r"^s[0-9]+-b[0-9]{9}$"
    )
    if foreign.exists():
        raise SyntheticCountyError(
            f"Source {source!r} holds imported records; generate into another --source.",
            code=SyntheticErrorCode.SOURCE_HOLDS_REAL_RECORDS,
        )


def _chunks(*, seed: int, bookings: int) -> Iterator[tuple[int, int, int]]:
    """(chunk number, first booking number, booking count) until `bookings` are covered."""
    chunk = start = 0
    while start < bookings:
        count = int(chunk_booking_counts(seed=seed, chunk=chunk).sum())
        yield chunk, start, count
        chunk += 1
        start += count


def _booking_key(seed: int, number: int) -> str:
    return f"s{seed}-b{number:09d}"


def _existing_ids(
    model: type[Person] | type[Booking], source: str, keys: list[str]
) -> dict[str, int]:
    found: dict[str, int] = {}
    for i in range(0, len(keys), _KEY_BATCH):
        rows = model.objects.filter(source=source, source_key__in=keys[i : i + _KEY_BATCH])
        found.update(rows.values_list("source_key", "id"))
    return found


@transaction.atomic
def _chunk_write(
    *,
    pools: NamePools,
    seed: int,
    source: str,
    chunk: int,
    start: int,
    stop: int,
    mugshots: bool,
    totals: _Totals,
) -> int:
    """Write the chunk's bookings numbered start..stop-1 that are missing; return how many it covered."""
    tables_lock(model_classes=[Person, Booking, Charge, Mugshot])
    booking_rows = Booking.objects.filter(source=source)
    if booking_rows.filter(source_key=_booking_key(seed, stop - 1)).exists():
        totals.bookings_existing += stop - start
        return stop - start
    partial = booking_rows.filter(source_key=_booking_key(seed, start)).exists()
    rows = chunk_rows_generate(pools=pools, seed=seed, chunk=chunk, booking_start=start)
    wanted = np.arange(rows.booking_count) < stop - start
    existing_people: dict[str, int] = {}
    if partial:  # a smaller earlier run ended inside this chunk: keep what it wrote
        have = _existing_ids(Booking, source, rows.bookings["source_key"][wanted].tolist())
        wanted &= ~np.isin(rows.bookings["source_key"], list(have))
        totals.bookings_existing += len(have)
        existing_people = _existing_ids(Person, source, rows.persons["source_key"].tolist())
    person_ids = _persons_write(rows, source, wanted, existing_people, totals)
    booking_ids = _bookings_write(rows, source, wanted, person_ids, totals)
    _charges_write(rows, wanted, booking_ids, totals)
    if mugshots:
        _mugshots_write(rows, seed, wanted, booking_ids, totals)
    return stop - start


def _stamped(
    columns: dict[str, np.ndarray], ids: np.ndarray, *stamps: str
) -> dict[str, np.ndarray]:
    now = np.datetime64(timezone.now().replace(tzinfo=None), "s")  # UTC wall time
    return {"id": ids, **columns, **{name: np.full(len(ids), now) for name in stamps}}


def _persons_write(
    rows: ChunkRows,
    source: str,
    wanted: np.ndarray,
    existing: dict[str, int],
    totals: _Totals,
) -> np.ndarray:
    """Create the people the wanted bookings need; return every chunk person's id (0 if not needed)."""
    needed = np.zeros(PERSONS_PER_CHUNK, dtype=bool)
    needed[rows.bookings["person_id"][wanted]] = True
    ids = np.zeros(PERSONS_PER_CHUNK, dtype=np.int64)
    if existing:
        known = np.array([existing.get(k, 0) for k in rows.persons["source_key"].tolist()])
        ids = np.where(known > 0, known, ids)
        needed &= known == 0
    count = int(needed.sum())
    ids[needed] = ids_reserve(model=Person, count=count) + np.arange(count)
    columns = {name: values[needed] for name, values in rows.persons.items()}
    columns["source"] = np.full(count, source, dtype=object)
    rows_write(model=Person, columns=_stamped(columns, ids[needed], "created_at", "updated_at"))
    totals.persons_created += count
    return ids


def _bookings_write(
    rows: ChunkRows, source: str, wanted: np.ndarray, person_ids: np.ndarray, totals: _Totals
) -> np.ndarray:
    count = int(wanted.sum())
    ids = np.zeros(rows.booking_count, dtype=np.int64)
    ids[wanted] = ids_reserve(model=Booking, count=count) + np.arange(count)
    columns = {name: values[wanted] for name, values in rows.bookings.items()}
    columns["person_id"] = person_ids[columns["person_id"]]
    columns["source"] = np.full(count, source, dtype=object)
    rows_write(model=Booking, columns=_stamped(columns, ids[wanted], "created_at", "updated_at"))
    totals.bookings_created += count
    return ids


def _charges_write(
    rows: ChunkRows, wanted: np.ndarray, booking_ids: np.ndarray, totals: _Totals
) -> None:
    keep = wanted[rows.charges["booking_id"]]
    count = int(keep.sum())
    columns = {name: values[keep] for name, values in rows.charges.items()}
    columns["booking_id"] = booking_ids[columns["booking_id"]]
    ids = ids_reserve(model=Charge, count=count) + np.arange(count)
    rows_write(model=Charge, columns={"id": ids, **columns})
    totals.charges_created += count


def _mugshots_write(
    rows: ChunkRows, seed: int, wanted: np.ndarray, booking_ids: np.ndarray, totals: _Totals
) -> None:
    # Its own stream, so asking for photos never changes the county's other rows.
    photographed = np.random.default_rng([seed, rows.chunk, 1]).random(rows.booking_count)
    keep = wanted & (photographed < _MUGSHOT_SHARE) & np.isnat(rows.bookings["removed_on"])
    local_person = rows.bookings["person_id"][keep]
    columns = mugshot_columns(
        booking_ids=booking_ids[keep],
        booking_numbers=rows.bookings["booking_number"][keep],
        person_numbers=rows.chunk * PERSONS_PER_CHUNK + local_person,
        captured_at=rows.bookings["booked_at"][keep],
    )
    count = len(columns["image"])
    ids = ids_reserve(model=Mugshot, count=count) + np.arange(count)
    rows_write(model=Mugshot, columns=_stamped(columns, ids, "created_at"))
    totals.mugshots_created += count
