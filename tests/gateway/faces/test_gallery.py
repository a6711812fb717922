"""Gallery membership, chunked enrollment (eager and on a live worker), removals and snapshots."""

from __future__ import annotations

import io
import time
from datetime import date, timedelta

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone

from gateway.faces import gallery
from gateway.faces.gallery import (
    FaceMatchingError,
    FaceMatchingErrorCode,
    descriptor_from_bytes,
    embedder_get,
    gallery_enroll_chunk,
    gallery_enroll_start,
    gallery_enrollment_progress,
    gallery_index_get,
    gallery_remove_person,
    gallery_search,
    gallery_snapshot_create,
    mugshots_eligible,
    synthetic_probe_image,
)
from gateway.faces.models import (
    EnrollmentChunk,
    EnrollmentRun,
    EnrollmentStatus,
    FaceTemplate,
    GalleryRemoval,
)
from gateway.models import Booking, Charge, Disposition, Mugshot, Person
from gateway.records.mugshots import mugshot_store

DIM = 128


@pytest.fixture(autouse=True)
def _synthetic(settings):
    settings.FACE_EMBEDDER = "synthetic"
    settings.DEBUG = True


def booked(
    key: str,
    descriptor: np.ndarray,
    *,
    disposition: str = Disposition.CONVICTED,
    pose: str = "frontal",
    person: Person | None = None,
    **status: object,
) -> Mugshot:
    """A person (or another booking of ``person``) with one charge and one synthetic mugshot."""
    person = person or Person.objects.create(
        source="test", source_key=key, last_name=key, age=30, sex="M", race="W"
    )
    booking = Booking.objects.create(
        person=person,
        source="test",
        source_key=f"{key}-{person.bookings.count()}",
        booking_number=f"B-{key}-{person.bookings.count()}",
        booked_at=timezone.now() - timedelta(days=30),
        **status,
    )
    Charge.objects.create(booking=booking, statute="943.32", disposition=disposition)
    return mugshot_store(
        booking=booking, data=synthetic_probe_image(descriptor=descriptor), pose=pose
    )


def face(rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(DIM) * 0.05


def enroll(django_capture_on_commit_callbacks, chunk_size: int = 3) -> EnrollmentRun:
    with django_capture_on_commit_callbacks(execute=True):
        run = gallery_enroll_start(chunk_size=chunk_size)
    run.refresh_from_db()
    return run


@pytest.mark.django_db
def test_only_policy_eligible_mugshots_are_in_the_gallery(settings) -> None:
    rng = np.random.default_rng(0)
    ok = booked("ok", face(rng))
    pending = booked("pending", face(rng), disposition=Disposition.PENDING)
    excluded = [
        booked("juvenile", face(rng), juvenile=True),
        booked("sealed", face(rng), sealed_on=date(2025, 1, 1)),
        booked("expunged", face(rng), expunged_order="2025CF1"),
        booked("removed", face(rng), removed_on=date(2025, 1, 1)),
        booked("dismissed", face(rng), disposition=Disposition.DISMISSED),
        booked("profile", face(rng), pose="left_profile"),
    ]
    minor = booked("minor", face(rng))
    Person.objects.filter(pk=minor.booking.person_id).update(age=16)
    assert set(mugshots_eligible()) == {ok, pending}
    settings.GALLERY_INCLUDE_NON_CONVICTION = True
    assert excluded[4] in set(mugshots_eligible())
    assert excluded[0] not in set(mugshots_eligible())


@pytest.mark.django_db
def test_enrollment_embeds_each_eligible_mugshot_once(django_capture_on_commit_callbacks) -> None:
    rng = np.random.default_rng(1)
    vectors = [face(rng) for _ in range(7)]
    shots = [booked(f"p{i}", v) for i, v in enumerate(vectors)]
    booked("sealed", face(rng), sealed_on=date(2025, 1, 1))
    run = enroll(django_capture_on_commit_callbacks)
    assert (run.total, run.chunks, run.chunks_done) == (7, 3, 3)
    assert (run.enrolled, run.failed, run.status) == (7, 0, EnrollmentStatus.DONE)
    progress = gallery_enrollment_progress(run_id=run.pk)
    assert (progress["percent"], progress["enrolled"], progress["mugshots"]) == (100.0, 7, 7)
    assert progress["finished_at"] is not None
    for shot, vector in zip(shots, vectors, strict=True):
        template = FaceTemplate.objects.get(mugshot=shot)
        assert np.allclose(descriptor_from_bytes(template.descriptor), vector, atol=1.3e-3)
    again = enroll(django_capture_on_commit_callbacks)
    assert again.status == EnrollmentStatus.DONE
    assert again.enrolled == 0
    assert FaceTemplate.objects.count() == 7


@pytest.mark.django_db
def test_a_chunk_resumes_after_an_interruption_and_a_redelivered_chunk_is_a_no_op() -> None:
    rng = np.random.default_rng(2)
    shots = [booked(f"p{i}", face(rng)) for i in range(4)]
    run = gallery_enroll_start(chunk_size=10)  # no on_commit here: the tasks are not run
    chunk = EnrollmentChunk.objects.get(run=run)
    embedder = embedder_get()
    FaceTemplate.objects.create(  # as if a worker died after its first mugshot
        mugshot=shots[0],
        person_id=shots[0].booking.person_id,
        booking_id=shots[0].booking_id,
        model_id=run.model_id,
        descriptor=np.zeros(DIM, "<f4").tobytes(),
    )
    assert embedder.model_id == run.model_id
    assert gallery_enroll_chunk(chunk_id=chunk.pk) == 3
    assert gallery_enroll_chunk(chunk_id=chunk.pk) == 0
    run.refresh_from_db()
    assert (run.chunks_done, run.enrolled, run.status) == (1, 3, EnrollmentStatus.DONE)


@pytest.mark.django_db
def test_an_unusable_photo_is_recorded_as_a_failure(django_capture_on_commit_callbacks) -> None:
    booked("blank", np.zeros(DIM))  # all pixels 128: the synthetic embedder finds "no face"
    booked("fine", np.full(DIM, 0.01))
    run = enroll(django_capture_on_commit_callbacks)
    assert (run.enrolled, run.failed) == (1, 1)
    assert FaceTemplate.objects.get(mugshot__booking__person__last_name="blank").failure


@pytest.mark.django_db
def test_removal_takes_a_face_out_of_the_very_next_search(
    django_capture_on_commit_callbacks,
) -> None:
    rng = np.random.default_rng(3)
    target = face(rng)
    shot = booked("target", target)
    for i in range(10):
        booked(f"other{i}", face(rng))
    enroll(django_capture_on_commit_callbacks)
    snapshot = gallery_snapshot_create(model_id=embedder_get().model_id)
    index = gallery_index_get(snapshot=snapshot)
    template_id = FaceTemplate.objects.get(mugshot=shot).pk
    assert index.search(probe=target, k=1).ids == (template_id,)
    assert (
        gallery_remove_person(person_id=shot.booking.person_id, reason="removal order 2026-7") == 1
    )
    assert not FaceTemplate.objects.filter(pk=template_id).exists()
    assert GalleryRemoval.objects.get(template_id=template_id).reason == "removal order 2026-7"
    again = gallery_search(snapshot=snapshot, probe=target, k=3)
    assert template_id not in again.ids
    assert len(again.ids) == 3


@pytest.mark.django_db
def test_a_booking_sealed_after_enrollment_is_excluded_from_search(
    django_capture_on_commit_callbacks,
) -> None:
    rng = np.random.default_rng(4)
    shot = booked("later-sealed", face(rng))
    booked("other", face(rng))
    enroll(django_capture_on_commit_callbacks)
    snapshot = gallery_snapshot_create(model_id=embedder_get().model_id)
    before = gallery_search(snapshot=snapshot, probe=face(np.random.default_rng(4)), k=2)
    Booking.objects.filter(pk=shot.booking_id).update(sealed_on=date(2026, 1, 2))
    after = gallery_search(snapshot=snapshot, probe=face(np.random.default_rng(4)), k=2)
    sealed = FaceTemplate.objects.get(mugshot=shot).pk
    assert sealed in before.ids
    assert sealed not in after.ids
    assert len(after.ids) == 1


@pytest.mark.django_db
def test_the_index_is_read_in_chunks_and_holds_every_template_in_id_order(
    django_capture_on_commit_callbacks, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks of 2 over 5 templates, and a count that is short (templates added while reading): nothing is
    lost, nothing repeated, and each id still finds its own descriptor."""
    from django.db.models import QuerySet

    rng = np.random.default_rng(6)
    shots = [booked(f"chunked{i}", face(rng)) for i in range(5)]
    enroll(django_capture_on_commit_callbacks)
    snapshot = gallery_snapshot_create(model_id=embedder_get().model_id)
    monkeypatch.setattr(gallery, "_INDEX_READ_CHUNK", 2)
    monkeypatch.setattr(QuerySet, "count", lambda self: 3)
    index = gallery._index_build(snapshot)
    templates = FaceTemplate.objects.filter(mugshot__in=shots).order_by("pk")
    assert len(index) == 5
    for template in templates:
        probe = descriptor_from_bytes(template.descriptor)
        assert index.search(probe=probe, k=1).ids == (template.pk,)


@pytest.mark.django_db
def test_a_stored_descriptor_of_the_wrong_size_stops_the_index_build(
    django_capture_on_commit_callbacks,
) -> None:
    rng = np.random.default_rng(7)
    shot = booked("short", face(rng))
    booked("fine", face(rng))
    enroll(django_capture_on_commit_callbacks)
    snapshot = gallery_snapshot_create(model_id=embedder_get().model_id)
    template = FaceTemplate.objects.get(mugshot=shot)
    assert template.descriptor is not None
    template.descriptor = bytes(template.descriptor)[:-4]
    template.save()

    with pytest.raises(ValueError, match="512 bytes"):
        gallery._index_build(snapshot)


def test_the_synthetic_embedder_is_refused_outside_debug(settings) -> None:
    settings.DEBUG = False
    with pytest.raises(FaceMatchingError) as caught:
        embedder_get(name="synthetic")
    assert caught.value.code == FaceMatchingErrorCode.EMBEDDER_NOT_ALLOWED
    with pytest.raises(FaceMatchingError) as unknown:
        embedder_get(name="nope")
    assert unknown.value.code == FaceMatchingErrorCode.EMBEDDER_UNKNOWN


@pytest.mark.django_db
def test_enroll_gallery_command_reports_the_run(django_capture_on_commit_callbacks) -> None:
    from io import StringIO

    from django.core.management import call_command

    booked("cmd", np.full(DIM, 0.02))
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("enroll_gallery", "--embedder", "synthetic", "--chunk-size", "5", stdout=out)
    assert "1 eligible mugshots in 1 chunks" in out.getvalue()
    # --wait polls the run; here the chunk tasks only run when the test's callbacks do, afterwards
    booked("cmd2", np.full(DIM, 0.03))
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("enroll_gallery", "--wait", "--timeout", "0.1", stdout=out)
    assert (
        "0/1 chunks (0.0%), 0 enrolled by this run, 0 failed, 1 faces in the gallery"
        in out.getvalue()
    )
    assert "still running" in out.getvalue()
    assert FaceTemplate.objects.count() == 2


@pytest.mark.live_worker
@pytest.mark.django_db(transaction=True)
def test_enrollment_on_a_live_worker(live_celery) -> None:
    """The chunks run in CI's real Celery worker process, against the same database."""
    rng = np.random.default_rng(5)
    shots = [booked(f"live{i}", face(rng)) for i in range(5)]
    run = gallery_enroll_start(embedder="synthetic", chunk_size=2)  # committed: tasks go to Redis
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status == EnrollmentStatus.DONE:
            break
        time.sleep(0.5)
    assert run.status == EnrollmentStatus.DONE
    assert (run.chunks_done, run.enrolled) == (3, 5)
    assert FaceTemplate.objects.filter(mugshot__in=shots, failure="").count() == 5


@pytest.mark.parametrize(
    ("setting", "value", "reason"),
    [
        ("MUGSHOT_MIN_SIDE", 200, "too_small"),
        ("MUGSHOT_MAX_ASPECT", 1.1, "absurd_aspect_ratio"),
        ("MUGSHOT_MAX_PIXELS", 50 * 50, "too_many_pixels"),
    ],
)
def test_the_face_models_check_photos_by_the_same_rules_and_limits_as_the_mugshot_import(
    settings, monkeypatch: pytest.MonkeyPatch, tmp_path, setting: str, value: float, reason: str
) -> None:
    """One set of checks (matching.images) with one set of limits (the settings) for a mugshot being
    imported and for a photo being embedded: what the import refuses, matching refuses for the same reason."""
    from types import SimpleNamespace

    import matching.services
    from gateway.records.mugshots import ImageRejectedError, mugshot_validate
    from matching.exceptions import ImageRejectedError as PhotoRefused

    class _Models:  # the photo is refused before any model is used
        descriptor = "descriptor"

        def record(self, name: str) -> SimpleNamespace:
            return SimpleNamespace(sha256="0" * 64)

    monkeypatch.setattr(matching.services, "face_models_load", lambda **_: _Models())
    settings.FACE_MODEL_DIR = tmp_path
    setattr(settings, setting, value)
    photo = synthetic_probe_image(descriptor=np.zeros(DIM))  # 64 x 64: within the default limits
    photo = photo if setting != "MUGSHOT_MAX_ASPECT" else _wide_png()

    with pytest.raises(ImageRejectedError) as imported:
        mugshot_validate(data=photo)
    with pytest.raises(PhotoRefused) as embedded:
        embedder_get(name="dlib").embed(photo)
    assert imported.value.reason == embedded.value.reason == reason


def _wide_png() -> bytes:
    import cv2

    ok, encoded = cv2.imencode(".png", np.zeros((60, 80, 3), np.uint8))
    assert ok
    return encoded.tobytes()


@pytest.mark.django_db
def test_search_returns_the_exact_nearest_among_the_templates_eligible_now(
    django_capture_on_commit_callbacks,
) -> None:
    """The probe's 9 nearest faces are sealed after the snapshot, one more was removed, and one template
    row is gone without a removal record: the search asks again until it has k eligible ones, and they are
    exactly the brute-force nearest of the rest."""
    rng = np.random.default_rng(8)
    probe = face(rng)
    shots = [booked(f"near{i}", probe + face(rng) * 0.05 * (i + 1)) for i in range(11)]
    shots += [booked(f"far{i}", face(rng)) for i in range(20)]
    enroll(django_capture_on_commit_callbacks)
    model_id = embedder_get().model_id
    snapshot = gallery_snapshot_create(model_id=model_id)
    gallery_index_get(
        snapshot=snapshot
    )  # built now: the changes below come after it, as in production
    templates = {t.mugshot_id: t for t in FaceTemplate.objects.filter(model_id=model_id)}
    sealed = [templates[shot.pk].pk for shot in shots[:9]]
    Booking.objects.filter(pk__in=[shot.booking_id for shot in shots[:9]]).update(
        sealed_on=date(2026, 1, 2)
    )
    assert gallery_remove_person(person_id=shots[9].booking.person_id, reason="order 7") == 1
    vanished = templates[shots[10].pk].pk
    FaceTemplate.objects.filter(pk=vanished).delete()  # no removal record: must still never return

    found = gallery_search(snapshot=snapshot, probe=probe, k=5)

    rest = FaceTemplate.objects.filter(model_id=model_id).exclude(pk__in=sealed)
    distances = {
        t.pk: float(np.linalg.norm(descriptor_from_bytes(t.descriptor) - probe)) for t in rest
    }
    assert found.ids == tuple(sorted(distances, key=lambda pk: (distances[pk], pk))[:5])
    assert not set(found.ids) & {*sealed, vanished}
    assert found.distances == pytest.approx([distances[pk] for pk in found.ids], abs=1e-5)


@pytest.mark.django_db
def test_search_of_a_gallery_with_fewer_eligible_faces_than_asked_returns_them_all(
    django_capture_on_commit_callbacks,
) -> None:
    rng = np.random.default_rng(9)
    shots = [booked(f"few{i}", face(rng)) for i in range(4)]
    enroll(django_capture_on_commit_callbacks)
    snapshot = gallery_snapshot_create(model_id=embedder_get().model_id)
    Booking.objects.filter(pk=shots[0].booking_id).update(expunged_on=date(2026, 2, 3))
    found = gallery_search(snapshot=snapshot, probe=face(rng), k=10)
    assert len(found.ids) == 3
    assert FaceTemplate.objects.get(mugshot=shots[0]).pk not in found.ids


@pytest.mark.django_db
def test_enroll_gallery_wait_says_what_the_gallery_holds_after_a_rerun(
    settings, django_capture_on_commit_callbacks
) -> None:
    # Issue 8.12: after the demo enrolled its faces, `enroll_gallery --wait` reported "0 enrolled".
    settings.FACE_EMBEDDER = "synthetic"
    rng = np.random.default_rng(5)
    for key in ("a", "b", "c"):
        booked(key, face(rng))
    enroll(django_capture_on_commit_callbacks)
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):  # the chunks run after the command
        call_command(
            "enroll_gallery", "--embedder", "synthetic", "--wait", "--timeout", "0.1", stdout=out
        )
    assert "0 enrolled by this run, 0 failed, 3 faces in the gallery" in out.getvalue()
