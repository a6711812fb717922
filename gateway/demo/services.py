"""The demo's SAMPLE gallery: public sample faces shipped by packages, attached to synthetic people.

No real mugshot is ever used. Each sample is stored as a `synthetic` mugshot on two bookings of one synthetic
person who was booked more than once (the original photo and a mated variant), so that a probe made from a
third variant finds its person first and the evaluation has mated pairs to measure.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count

from gateway.faces.gallery import gallery_enroll_start
from gateway.models import Booking, Disposition, Pose
from gateway.records.mugshots import mugshot_store
from matching.services import sample_faces, sample_mated_variants

__all__ = ["DemoGallery", "demo_gallery_load"]

DEMO_LFW_SUBJECTS = 12


@dataclass(frozen=True)
class DemoGallery:
    people: int
    mugshots: int
    enrolled: int


def _people_booked_twice(*, limit: int) -> list[list[Booking]]:
    """Synthetic people with at least two gallery-eligible bookings, oldest first, deterministic."""
    eligible = Booking.objects.filter(
        source="synthetic",
        juvenile=False,
        sealed_on__isnull=True,
        expunged_on__isnull=True,
        removed_on__isnull=True,
        charges__disposition=Disposition.CONVICTED,
    ).distinct()
    person_ids = list(
        eligible.values("person_id")
        .annotate(n=Count("id", distinct=True))
        .filter(n__gte=2)
        .order_by("person_id")
        .values_list("person_id", flat=True)[:limit]
    )
    people = []
    for person_id in person_ids:
        bookings = list(eligible.filter(person_id=person_id).order_by("booked_at", "pk")[:2])
        people.append(bookings)
    return people


def demo_gallery_load(*, seed: int = 2026) -> DemoGallery:
    """Attach the SAMPLE faces to synthetic people and enroll them with the real face models.

    Idempotent: mugshots are keyed by booking and image hash, and enrollment skips what is enrolled.
    """
    samples = sample_faces(lfw_count=DEMO_LFW_SUBJECTS)
    people = _people_booked_twice(limit=len(samples))
    stored = 0
    for sample, bookings in zip(samples, people, strict=False):
        variant = sample_mated_variants(sample=sample, variants=("flipped",))[0]
        for booking, face in zip(bookings, (sample, variant), strict=True):
            mugshot_store(booking=booking, data=face.png, pose=Pose.FRONTAL, synthetic=True)
            stored += 1
    run = gallery_enroll_start(embedder="dlib", requested_by=f"demo_setup seed {seed}")
    run.refresh_from_db()
    return DemoGallery(
        people=min(len(samples), len(people)), mugshots=stored, enrolled=run.enrolled
    )
