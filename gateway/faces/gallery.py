"""The searchable face gallery: which mugshots may be in it, enrollment in chunks, removals, snapshots.

Why a policy decides membership (rules.md FR-17, CJ-08, WI-01..03): the gallery must never hold juvenile,
sealed, expunged or removed records, and by default not people who were never convicted either (a county
setting, ``GALLERY_INCLUDE_NON_CONVICTION``). A removal order takes the face out at once: its templates are
deleted and a ``GalleryRemoval`` row makes every process's next search leave it out, before any rebuild.

Enrollment is chunked by mugshot id so any number of Celery workers can share it; each chunk is idempotent
(a template per mugshot and model is unique, a finished chunk is marked) and the run counts its progress.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils import timezone
from PIL import Image

from gateway.exceptions import GatewayError
from gateway.faces.models import (
    EnrollmentChunk,
    EnrollmentRun,
    EnrollmentStatus,
    FaceTemplate,
    GalleryRemoval,
    GallerySnapshot,
)
from gateway.faces.tasks import gallery_enroll_chunk_task
from gateway.records.models import Mugshot, Pose
from gateway.records.selectors import bookings_usable
from matching.exceptions import MatchingError
from matching.services import GalleryIndex, SearchResult

__all__ = [
    "DESCRIPTOR_LENGTH",
    "Embedder",
    "FaceMatchingError",
    "FaceMatchingErrorCode",
    "descriptor_from_bytes",
    "embedder_get",
    "gallery_enroll_chunk",
    "gallery_enroll_start",
    "gallery_enrollment_progress",
    "gallery_index_get",
    "gallery_remove_booking",
    "gallery_remove_person",
    "gallery_search",
    "gallery_snapshot_create",
    "mugshots_eligible",
    "synthetic_probe_image",
    "templates_describe",
]

DESCRIPTOR_LENGTH = 128
SYNTHETIC = "synthetic"
DLIB = "dlib"


class FaceMatchingErrorCode(StrEnum):
    """Stable reasons a gallery or match operation was refused."""

    EMBEDDER_UNKNOWN = "embedder_unknown"
    EMBEDDER_NOT_ALLOWED = "embedder_not_allowed"
    GALLERY_EMPTY = "gallery_empty"
    NOT_EVALUATED = "matching_not_evaluated"
    MODE_NOT_ALLOWED = "mode_not_allowed"
    PROBE_UNUSABLE = "probe_unusable"
    NOT_AN_EXAMINER = "not_an_examiner"
    TRAINING_NOT_CURRENT = "training_not_current"
    REVIEWER_IS_REQUESTER = "reviewer_is_requester"
    RATIONALE_TOO_SHORT = "rationale_too_short"
    WRONG_STATE = "wrong_state"
    CANDIDATE_UNKNOWN = "candidate_unknown"


class FaceMatchingError(GatewayError):
    """A gallery or match operation refused on purpose; ``code`` says why."""

    code: FaceMatchingErrorCode  # type: ignore[assignment]  # own codes until GatewayErrorCode has them

    def __init__(self, message: str, *, code: FaceMatchingErrorCode, **extra: Any) -> None:
        super().__init__(message, extra=extra or None)
        self.code = code


# ---------------------------------------------------------------------------------------------- embedders


@dataclass(frozen=True)
class Embedder:
    """Turns one photo into a descriptor; ``model_id`` names the model and its file hash.

    ``synthetic`` reads a descriptor written into the pixels of a test image (see
    ``synthetic_probe_image``): it lets tests and CI drive enrollment, search and evaluation end to end
    without the ONNX models, and is refused unless DEBUG is on.
    """

    name: str
    model_id: str
    embed: Callable[[bytes], npt.NDArray[np.float32]]


def embedder_get(*, name: str | None = None) -> Embedder:
    """The embedder called ``name`` (default: setting ``FACE_EMBEDDER``, else ``dlib``)."""
    chosen = name or getattr(settings, "FACE_EMBEDDER", DLIB)
    if chosen == SYNTHETIC:
        if not settings.DEBUG:
            raise FaceMatchingError(
                "the synthetic embedder is for tests only",
                code=FaceMatchingErrorCode.EMBEDDER_NOT_ALLOWED,
            )
        return Embedder(name=SYNTHETIC, model_id="synthetic-pixels-v1", embed=_synthetic_embed)
    if chosen == DLIB:
        return _dlib_embedder()
    raise FaceMatchingError(
        f"unknown embedder {chosen!r}", code=FaceMatchingErrorCode.EMBEDDER_UNKNOWN
    )


_DLIB_LOCK = threading.Lock()
_DLIB_CACHE: dict[str, Embedder] = {}


def _dlib_embedder() -> Embedder:
    from gateway.records.mugshots import photo_limits
    from matching.services import face_embed_one, face_models_load

    directory = settings.FACE_MODEL_DIR
    with _DLIB_LOCK:
        cached = _DLIB_CACHE.get(str(directory))
        if cached is None:
            models = face_models_load(directory=directory)
            digest = models.record(models.descriptor).sha256[:12]

            def embed(image: bytes) -> npt.NDArray[np.float32]:
                # The photo limits of the settings, read per photo: the checks a mugshot passed on import.
                face = face_embed_one(image=image, models=models, limits=photo_limits())
                return np.asarray(face.descriptor, dtype=np.float32)

            cached = Embedder(name=DLIB, model_id=f"dlib-resnet-v1:{digest}", embed=embed)
            _DLIB_CACHE[str(directory)] = cached
        return cached


_SYNTHETIC_SIDE = 64
_SYNTHETIC_STEP = 1.0 / 400.0


def synthetic_probe_image(*, descriptor: npt.ArrayLike) -> bytes:
    """A PNG whose first 128 pixels carry ``descriptor`` (test and demo fixtures only, never a face).

    Values are stored in steps of 1/400 around 0 (±0.32), enough for dlib-like descriptors.
    """
    values = np.asarray(descriptor, dtype=np.float64).reshape(-1)
    if values.shape[0] != DESCRIPTOR_LENGTH:
        raise ValueError("a synthetic image carries exactly 128 values")
    pixels = np.zeros(_SYNTHETIC_SIDE * _SYNTHETIC_SIDE, dtype=np.uint8)
    pixels[:DESCRIPTOR_LENGTH] = np.clip(np.rint(values / _SYNTHETIC_STEP) + 128, 0, 255)
    buffer = io.BytesIO()
    Image.fromarray(pixels.reshape(_SYNTHETIC_SIDE, _SYNTHETIC_SIDE), mode="L").save(buffer, "PNG")
    return buffer.getvalue()


def _synthetic_embed(image: bytes) -> npt.NDArray[np.float32]:
    try:
        with Image.open(io.BytesIO(image)) as img:
            pixels = np.asarray(img.convert("L"), dtype=np.float32).reshape(-1)
    except (OSError, ValueError) as exc:
        raise FaceMatchingError(
            "not a synthetic test image", code=FaceMatchingErrorCode.PROBE_UNUSABLE
        ) from exc
    if pixels.shape[0] < DESCRIPTOR_LENGTH or not (pixels[:DESCRIPTOR_LENGTH] != 128).any():
        raise FaceMatchingError("no face found", code=FaceMatchingErrorCode.PROBE_UNUSABLE)
    return ((pixels[:DESCRIPTOR_LENGTH] - 128.0) * _SYNTHETIC_STEP).astype(np.float32)


def descriptor_from_bytes(data: bytes | memoryview | None) -> npt.NDArray[np.float32]:
    """A stored descriptor (float32 bytes) as an array."""
    if data is None:
        raise ValueError("this template has no descriptor (its photo failed)")
    return np.frombuffer(bytes(data), dtype="<f4").astype(np.float32)


# ------------------------------------------------------------------------------------------- membership


def mugshots_eligible() -> QuerySet[Mugshot]:
    """Mugshots a gallery may hold: their booking passes the one eligibility rule
    (``bookings_usable``, with ``GALLERY_INCLUDE_NON_CONVICTION``), and the pose is frontal or unknown.
    """
    bookings = bookings_usable(
        include_non_conviction=bool(getattr(settings, "GALLERY_INCLUDE_NON_CONVICTION", False))
    )
    return Mugshot.objects.filter(
        booking__in=bookings.values("pk"),
        pose__in=[Pose.FRONTAL, Pose.UNKNOWN],
    )


# ------------------------------------------------------------------------------------------- enrollment


def gallery_enroll_start(
    *, embedder: str | None = None, chunk_size: int = 500, requested_by: str = ""
) -> EnrollmentRun:
    """Plan an enrollment of every eligible mugshot and queue one task per chunk (after commit).

    Chunks are mugshot id ranges, so workers share the run; mugshots already enrolled under the same
    model are skipped by the chunks, which makes a repeated run cheap and safe.
    """
    chosen = embedder_get(name=embedder)
    ids = list(mugshots_eligible().order_by("pk").values_list("pk", flat=True))
    bounds = [
        (ids[i], ids[min(i + chunk_size, len(ids)) - 1]) for i in range(0, len(ids), chunk_size)
    ]
    with transaction.atomic():
        run = EnrollmentRun(
            model_id=chosen.model_id,
            embedder=chosen.name,
            total=len(ids),
            chunks=len(bounds),
            requested_by=requested_by,
        )
        run.full_clean()
        run.save()
        chunks = EnrollmentChunk.objects.bulk_create(
            EnrollmentChunk(run=run, first_mugshot_id=a, last_mugshot_id=b) for a, b in bounds
        )
        if not chunks:
            _run_finish(run_id=run.pk)
        chunk_ids = [c.pk for c in EnrollmentChunk.objects.filter(run=run).order_by("pk")]
        transaction.on_commit(
            lambda: [gallery_enroll_chunk_task.delay(chunk_id) for chunk_id in chunk_ids]
        )
    return run


def gallery_enroll_chunk(*, chunk_id: int) -> int:
    """Embed the eligible, not yet enrolled mugshots of one chunk; returns how many were enrolled.

    Idempotent: a finished chunk returns 0 at once, and a chunk interrupted half-way (worker killed,
    task redelivered) skips the mugshots it already did.
    """
    chunk = EnrollmentChunk.objects.select_related("run").get(pk=chunk_id)
    if chunk.done:
        return 0
    run = chunk.run
    embedder = embedder_get(name=run.embedder)
    mugshots = (
        mugshots_eligible()
        .filter(pk__gte=chunk.first_mugshot_id, pk__lte=chunk.last_mugshot_id)
        .exclude(face_templates__model_id=run.model_id)
        .select_related("booking")
        .order_by("pk")
    )
    enrolled = failed = 0
    for mugshot in mugshots:
        template = _template_make(mugshot=mugshot, embedder=embedder, model_id=run.model_id)
        if template is None:
            continue
        if template.failure:
            failed += 1
        else:
            enrolled += 1
    with transaction.atomic():
        updated = EnrollmentChunk.objects.filter(pk=chunk.pk, done=False).update(done=True)
        if updated:
            EnrollmentRun.objects.filter(pk=run.pk).update(
                chunks_done=F("chunks_done") + 1,
                enrolled=F("enrolled") + enrolled,
                failed=F("failed") + failed,
            )
            run.refresh_from_db(fields=["chunks_done", "chunks"])
            if run.chunks_done >= run.chunks:
                _run_finish(run_id=run.pk)
    return enrolled


def gallery_enrollment_progress(*, run_id: int) -> dict[str, Any]:
    """Where an enrollment run stands, for the operator screen and ``enroll_gallery --wait``."""
    run = EnrollmentRun.objects.get(pk=run_id)
    return {
        "run": run.pk,
        "model_id": run.model_id,
        "status": run.status,
        "mugshots": run.total,
        "chunks": run.chunks,
        "chunks_done": run.chunks_done,
        "enrolled": run.enrolled,
        "failed": run.failed,
        # A re-run enrolls only what is new; this says what the gallery holds under the model now.
        "in_gallery": FaceTemplate.objects.filter(
            model_id=run.model_id, descriptor__isnull=False
        ).count(),
        "percent": round(100.0 * run.chunks_done / run.chunks, 1) if run.chunks else 100.0,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }


def _template_make(*, mugshot: Mugshot, embedder: Embedder, model_id: str) -> FaceTemplate | None:
    """Embed one mugshot and store its template (or its failure). None if another worker won."""
    failure = ""
    descriptor: bytes | None = None
    try:
        with mugshot.image.open("rb") as handle:
            data = handle.read()
        vector = embedder.embed(data)
        descriptor = np.asarray(vector, dtype="<f4").tobytes()
    except (MatchingError, FaceMatchingError) as exc:
        failure = str(exc.code)
    except OSError:
        failure = "image_unreadable"
    template = FaceTemplate(
        mugshot=mugshot,
        person_id=mugshot.booking.person_id,
        booking_id=mugshot.booking_id,
        model_id=model_id,
        descriptor=descriptor,
        failure=failure,
    )
    _, created = FaceTemplate.objects.get_or_create(
        mugshot=mugshot,
        model_id=model_id,
        defaults={
            "person_id": template.person_id,
            "booking_id": template.booking_id,
            "descriptor": descriptor,
            "failure": failure,
        },
    )
    return template if created else None


def _run_finish(*, run_id: int) -> None:
    EnrollmentRun.objects.filter(pk=run_id).update(
        status=EnrollmentStatus.DONE, finished_at=timezone.now()
    )


# ---------------------------------------------------------------------------------------------- removals


@transaction.atomic
def gallery_remove_person(*, person_id: int, reason: str) -> int:
    """Take every face of a person out of the gallery now; returns how many templates went.

    Called by the removal-order, sealing and expungement code. The templates are deleted (the biometric
    goes) and a removal row per template makes every running search exclude them immediately.
    """
    return _remove(FaceTemplate.objects.filter(person_id=person_id), reason=reason)


@transaction.atomic
def gallery_remove_booking(*, booking_id: int, reason: str) -> int:
    """Take the faces of one booking out of the gallery now (a booking-level order)."""
    return _remove(FaceTemplate.objects.filter(booking_id=booking_id), reason=reason)


def _remove(templates: QuerySet[FaceTemplate], *, reason: str) -> int:
    rows = list(templates.values_list("pk", "person_id"))
    GalleryRemoval.objects.bulk_create(
        GalleryRemoval(template_id=pk, person_id_at_removal=person, reason=reason[:200])
        for pk, person in rows
    )
    templates.delete()
    return len(rows)


# --------------------------------------------------------------------------------------------- snapshots


def _searchable(model_id: str) -> QuerySet[FaceTemplate]:
    return FaceTemplate.objects.filter(
        model_id=model_id, failure="", descriptor__isnull=False, mugshot__in=mugshots_eligible()
    )


@transaction.atomic
def gallery_snapshot_create(*, model_id: str) -> GallerySnapshot:
    """Freeze the current searchable templates of a model as a snapshot (count + digest of ids)."""
    ids = list(_searchable(model_id).order_by("pk").values_list("pk", flat=True))
    digest = hashlib.sha256(model_id.encode())
    digest.update(np.asarray(ids, dtype="<i8").tobytes())
    snapshot = GallerySnapshot(
        model_id=model_id,
        template_count=len(ids),
        first_template_id=ids[0] if ids else 0,
        last_template_id=ids[-1] if ids else 0,
        digest=digest.hexdigest(),
    )
    snapshot.full_clean()
    snapshot.save()
    return snapshot


_INDEX_LOCK = threading.Lock()
_INDEX_CACHE: dict[tuple[int, str, str], GalleryIndex] = {}


def gallery_index_get(*, snapshot: GallerySnapshot) -> GalleryIndex:
    """The search index of a snapshot, built once per process and kept (one snapshot at a time)."""
    # Keyed by more than the pk: a restored or test database can reuse ids for a different gallery.
    key = (snapshot.pk, snapshot.digest, snapshot.created_at.isoformat())
    with _INDEX_LOCK:
        index = _INDEX_CACHE.get(key)
        if index is None:
            index = _index_build(snapshot)
            _INDEX_CACHE.clear()
            _INDEX_CACHE[key] = index
        return index


_INDEX_READ_CHUNK = (
    20_000  # templates per fetch while building an index (about 10 MB of descriptors)
)


def _index_build(snapshot: GallerySnapshot) -> GalleryIndex:
    """Load the snapshot's templates (its id range; template ids only grow).

    Rows deleted since (removals) are simply absent; rows in the range that are not searchable now are
    never returned by ``gallery_search``, which checks every template it returns.

    The descriptors are read in chunks straight into one float32 array, never as a Python list of rows
    and one small array each: building from 2.5 million templates peaked at 5.9 GB that way, 2.4 GB now
    (with the search's own build; docs/matching.md).
    """
    rows = FaceTemplate.objects.filter(
        model_id=snapshot.model_id,
        failure="",
        descriptor__isnull=False,
        pk__gte=snapshot.first_template_id,
        pk__lte=snapshot.last_template_id,
    )
    size = DESCRIPTOR_LENGTH * 4  # little-endian float32, as descriptor_from_bytes reads them
    expected = rows.count()
    ids = np.empty(expected, dtype=np.int64)
    descriptors = np.empty((expected, DESCRIPTOR_LENGTH), dtype=np.float32)
    filled = 0
    chunk: list[tuple[int, bytes | memoryview | None]] = []
    for row in rows.order_by("pk").values_list("pk", "descriptor").iterator(_INDEX_READ_CHUNK):
        chunk.append(row)
        if len(chunk) == _INDEX_READ_CHUNK:
            ids, descriptors, filled = _index_fill(ids, descriptors, filled, chunk, size)
            chunk = []
    ids, descriptors, filled = _index_fill(ids, descriptors, filled, chunk, size)
    threads = int(getattr(settings, "FACE_SEARCH_THREADS", 2))
    return GalleryIndex.build(ids=ids[:filled], descriptors=descriptors[:filled], threads=threads)


def _index_fill(
    ids: npt.NDArray[np.int64],
    descriptors: npt.NDArray[np.float32],
    filled: int,
    chunk: list[tuple[int, bytes | memoryview | None]],
    size: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32], int]:
    """Copy one chunk of (id, descriptor bytes) rows in at `filled`, growing the arrays if rows were added
    after they were counted."""
    if not chunk:
        return ids, descriptors, filled
    blobs = [bytes(descriptor or b"") for _, descriptor in chunk]  # the query excludes NULL
    if any(len(blob) != size for blob in blobs):  # one short row would shift every row after it
        raise ValueError(f"a stored descriptor is not {size} bytes")
    stop = filled + len(chunk)
    if stop > len(ids):
        ids = np.resize(ids, stop)
        descriptors = np.resize(descriptors, (stop, DESCRIPTOR_LENGTH))
    ids[filled:stop] = [pk for pk, _ in chunk]
    descriptors[filled:stop] = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(
        -1, DESCRIPTOR_LENGTH
    )
    return ids, descriptors, stop


def gallery_search(*, snapshot: GallerySnapshot, probe: npt.ArrayLike, k: int) -> SearchResult:
    """The exact k nearest templates of ``snapshot`` that may be searched now (FR-17, removals).

    Removals since the snapshot are excluded up front (one indexed query); eligibility (sealed, expunged,
    removed, a pending case past a year, ...) is checked only for the templates a search returns. The search
    asks for twice as many as wanted; if fewer than ``k`` of them are eligible, the ineligible ones are
    excluded and it asks again, for twice as many. Exact: every template nearer than the ones returned was
    checked and found ineligible. Fail closed: a template not positively eligible (its row gone, say) is
    never returned. At 2.5 million templates, asking the same of the whole snapshot took 3.5-4.5 s per
    search (as NOT IN, which PostgreSQL rescans per row once the list outgrows work_mem, it would not have
    finished); the check here took 5-8 ms for 40 templates.
    """
    index = gallery_index_get(snapshot=snapshot)
    excluded = set(
        GalleryRemoval.objects.filter(removed_at__gte=snapshot.created_at).values_list(
            "template_id", flat=True
        )
    )
    eligible: set[int] = set()
    wanted = 2 * k
    while True:
        result = index.search(probe=probe, k=wanted, excluded=excluded)
        unknown = [i for i in result.ids if i not in eligible]
        eligible |= _templates_eligible(template_ids=unknown)
        excluded |= set(unknown) - eligible
        kept = [(i, d) for i, d in zip(result.ids, result.distances, strict=True) if i in eligible]
        if len(kept) >= k or len(result.ids) < wanted:  # enough, or the gallery has no more
            return SearchResult(
                ids=tuple(i for i, _ in kept[:k]),
                distances=tuple(d for _, d in kept[:k]),
                scanned=result.scanned,
                reranked=result.reranked,
            )
        wanted *= 2


def _templates_eligible(*, template_ids: Sequence[int]) -> set[int]:
    """Those of ``template_ids`` whose mugshot may be in the gallery now (a correlated check per row)."""
    if not template_ids:
        return set()
    eligible = mugshots_eligible().filter(pk=OuterRef("mugshot_id"))
    return set(
        FaceTemplate.objects.filter(Exists(eligible), pk__in=list(template_ids)).values_list(
            "pk", flat=True
        )
    )


def templates_describe(*, template_ids: Iterable[int]) -> dict[int, int]:
    """Booking id of each template (internal ids only; never person data)."""
    return dict(
        FaceTemplate.objects.filter(pk__in=list(template_ids)).values_list("pk", "booking_id")
    )
