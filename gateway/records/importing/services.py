"""Import a roster file into people, bookings and charges: streaming, batched, idempotent and resumable.

A format (gateway.records.importers) turns the file into plain `ParsedBooking` / `RowRejection` values; this service
writes them in batches, each batch one transaction that also advances the run's counts and `resume_line`. So:

* every row read is counted exactly once as created, updated, unchanged or rejected, and the run's counts add up
  after every batch, not only at the end (ImportRun has a check constraint on completed runs);
* re-importing the same file changes nothing: rows are upserted on (source, source_key) and a row whose
  content hash matches the stored one is counted unchanged and not written;
* a run killed halfway is continued by the next run of the same file: it picks up the unfinished ImportRun and
  skips the lines it had committed. Even without that, idempotency alone would prevent duplicates.

Speed: while one batch is committed on a background thread, the next is read, checked and hashed
(import_commit.Committer); a batch costs a fixed handful of statements whatever its size
(gateway.records.importers.upsert), never a query per row. Images are the exception: each is stored (or, for an
unchanged booking, validated) on its own. A refused image never costs the booking
its row: the booking is kept without it, and the refusal is reported under `mugshot_rejections` (stored as an
ImportRejection with field "mugshot" that is not counted in `rejected`, which counts rows).

The reading side lives in `import_rows`, the writing side in `import_commit`; this module is the entry point
and the run's bookkeeping.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection
from django.utils import timezone

from gateway.exceptions import GatewayError, GatewayErrorCode
from gateway.models import ImportRun, ImportStatus
from gateway.records.importers.base import FormatOptions, ParsedRow, repeats_are_updates
from gateway.records.importers.registry import format_build
from gateway.records.importing.commit import Committer
from gateway.records.importing.rows import MUGSHOT_FIELD, BatchWriter, later_states

__all__ = ["BATCH_SIZE", "MUGSHOT_FIELD", "ImportReport", "bookings_import"]

BATCH_SIZE = 2000


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
        writer = BatchWriter(
            repeats_update=repeats,
            later=later_states(importer.parse(path)) if repeats else {},
            stage_rows=connection.vendor == "postgresql",
        )
        rows = _progress(importer.parse(path), enabled=progress, total=_line_count(path, progress))
        with Committer(source=importer.source, run=run) as committer:
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
    for line, where, field_name, reason in run.rejections.order_by("line", "id").values_list(
        "line", "location", "field", "reason"
    ):
        entry = {
            "line": line,
            "where": where or f"line {line}",
            "field": field_name,
            "reason": reason,
        }
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
