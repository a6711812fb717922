"""Face gallery, match requests and their human review (rules.md FR-02, FR-03, FR-04, FR-07, FR-17).

A template is the descriptor of one mugshot under one model; the gallery is the set of templates a
policy lets us search. Searches are logged with the algorithm version, gallery snapshot and threshold,
candidates stay pseudonymous until a trained examiner who is not the requester reviews them, and a
discovery bundle can be rebuilt from these rows alone.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from gateway.records.models import Booking, Mugshot, Person


class FaceTemplate(models.Model):
    """The descriptor of one mugshot under one model, or the reason none could be made.

    ``descriptor`` holds float32 bytes (little-endian); a failed photo keeps its ``failure`` code so a
    resumed enrollment does not retry it. Rows are deleted, not flagged, when a removal order comes in:
    the biometric itself goes.
    """

    mugshot = models.ForeignKey(Mugshot, on_delete=models.CASCADE, related_name="face_templates")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="face_templates")
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="face_templates")
    model_id = models.CharField(max_length=120)
    descriptor = models.BinaryField(null=True, blank=True)
    failure = models.CharField(max_length=40, blank=True)
    enrolled_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["mugshot", "model_id"], name="face_template_mugshot_model"
            ),
        ]
        indexes = [models.Index(fields=["model_id", "id"])]

    def __str__(self) -> str:
        return f"FaceTemplate {self.pk} of mugshot {self.mugshot_id} ({self.model_id})"


class EnrollmentStatus(models.TextChoices):
    RUNNING = "running", "Running"
    DONE = "done", "Done"


class EnrollmentRun(models.Model):
    """One enrollment pass: which model, how many mugshots, how far the chunk tasks have got."""

    model_id = models.CharField(max_length=120)
    embedder = models.CharField(max_length=40)
    status = models.CharField(
        max_length=10, choices=EnrollmentStatus.choices, default=EnrollmentStatus.RUNNING
    )
    total = models.PositiveIntegerField(default=0)
    chunks = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    enrolled = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    requested_by = models.CharField(max_length=150, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Enrollment {self.pk} {self.model_id}: {self.chunks_done}/{self.chunks} chunks"


class EnrollmentChunk(models.Model):
    """One chunk of an enrollment run (a mugshot id range); ``done`` makes a redelivered task a no-op."""

    run = models.ForeignKey(EnrollmentRun, on_delete=models.CASCADE, related_name="chunk_rows")
    first_mugshot_id = models.PositiveBigIntegerField()
    last_mugshot_id = models.PositiveBigIntegerField()
    done = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "first_mugshot_id"], name="enrollment_chunk_run_first"
            ),
        ]

    def __str__(self) -> str:
        return f"Chunk {self.first_mugshot_id}-{self.last_mugshot_id} of run {self.run_id}"


class GallerySnapshot(models.Model):
    """The exact set of templates a search ran against: count and a digest of their ids.

    The digest lets a discovery bundle show which gallery was searched without listing 2.5 million ids.
    """

    model_id = models.CharField(max_length=120)
    template_count = models.PositiveIntegerField()
    first_template_id = models.PositiveBigIntegerField(default=0)
    last_template_id = models.PositiveBigIntegerField(default=0)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Snapshot {self.pk} ({self.template_count} faces, {self.digest[:12]})"


class GalleryRemoval(models.Model):
    """A template taken out of the gallery (removal order, sealing, expungement).

    Searches exclude every removal newer than their snapshot, so the face is gone from the very next
    search in every process, before any rebuild.
    """

    template_id = models.PositiveBigIntegerField(db_index=True)
    person_id_at_removal = models.PositiveBigIntegerField()
    reason = models.CharField(max_length=200)
    removed_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"Removal of template {self.template_id}"


class MatchEvaluation(models.Model):
    """A stored FR-03 evaluation of one model and threshold; production matching needs one that passed."""

    model_id = models.CharField(max_length=120)
    threshold = models.FloatField()
    list_size = models.PositiveSmallIntegerField()
    passed = models.BooleanField()
    report = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Evaluation {self.pk} {self.model_id} @ {self.threshold}"


class MatchStatus(models.TextChoices):
    DENIED = "denied", "Denied by policy"
    PROBE_REJECTED = "probe_rejected", "Probe unusable"
    NO_CANDIDATES = "no_candidates", "No candidate of sufficient similarity"
    PENDING_REVIEW = "pending_review", "Awaiting examiner review"
    CONFIRMED = "confirmed", "Examiner confirmed a candidate"
    NO_MATCH = "no_match", "Examiner found no match"
    RELEASED = "released", "Confirmed candidate released"


class MatchRequest(models.Model):
    """One single-probe face search for one case (FR-09), with what was decided and what came back.

    The probe image is not kept, only its hash and descriptor; the gallery snapshot, model and threshold
    are fixed here so the search can be reproduced for discovery (FR-07).
    """

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="match_requests"
    )
    recipient = models.JSONField()
    on_behalf_of = models.JSONField(null=True, blank=True)
    # As asked, even when blank: a refused request is stored and disclosed like any other.
    purpose = models.CharField(max_length=100, blank=True)
    case_number = models.CharField(max_length=60, blank=True, db_index=True)
    offense_statute = models.CharField(max_length=60, blank=True)
    narrative = models.TextField(blank=True)
    mode = models.CharField(max_length=20, blank=True)
    # The legal documents the decision was made on; the confirmed candidate is released on the same ones.
    documents = models.JSONField(default=list, blank=True)
    probe_sha256 = models.CharField(max_length=64, blank=True)
    probe_descriptor = models.BinaryField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=MatchStatus.choices)
    reasons = models.JSONField(default=list)
    policy_version = models.CharField(max_length=80, blank=True)
    model_id = models.CharField(max_length=120, blank=True)
    threshold = models.FloatField(null=True, blank=True)
    list_size = models.PositiveSmallIntegerField(null=True, blank=True)
    snapshot = models.ForeignKey(
        GallerySnapshot, null=True, blank=True, on_delete=models.PROTECT, related_name="searches"
    )
    evaluation = models.ForeignKey(
        MatchEvaluation, null=True, blank=True, on_delete=models.PROTECT, related_name="searches"
    )
    label = models.CharField(max_length=100, blank=True)
    release_id = models.CharField(
        max_length=40,
        blank=True,
        default="",
        help_text="Public id of the audit entry of the release",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Match request #{self.pk} ({self.status})"


class CandidateStatus(models.TextChoices):
    PENDING = "pending", "Pending review"
    CONFIRMED = "confirmed", "Confirmed by examiner"
    EXCLUDED = "excluded", "Excluded by examiner"


class MatchCandidate(models.Model):
    """One ranked candidate; shown by ``pseudonym`` only until an examiner confirms it."""

    match_request = models.ForeignKey(
        MatchRequest, on_delete=models.CASCADE, related_name="candidates"
    )
    rank = models.PositiveSmallIntegerField()
    pseudonym = models.CharField(max_length=24, unique=True)
    template_id = models.PositiveBigIntegerField()
    booking = models.ForeignKey(
        Booking, null=True, on_delete=models.SET_NULL, related_name="match_candidates"
    )
    distance = models.FloatField()
    nonmated_share = models.FloatField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=CandidateStatus.choices, default=CandidateStatus.PENDING
    )

    class Meta:
        ordering = ["match_request_id", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["match_request", "rank"], name="match_candidate_rank"),
        ]

    def __str__(self) -> str:
        return f"Candidate {self.pseudonym} (rank {self.rank})"


class ReviewDecision(models.TextChoices):
    CONFIRMED = "confirmed", "Candidate confirmed as a lead"
    NO_MATCH = "no_match", "No candidate matches"
    INCONCLUSIVE = "inconclusive", "Inconclusive"


class ExaminerReview(models.Model):
    """The recorded human review of a candidate list (FR-02): who, what, and why."""

    match_request = models.ForeignKey(
        MatchRequest, on_delete=models.CASCADE, related_name="reviews"
    )
    examiner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="examiner_reviews"
    )
    decision = models.CharField(max_length=20, choices=ReviewDecision.choices)
    candidate = models.ForeignKey(
        MatchCandidate, null=True, blank=True, on_delete=models.PROTECT, related_name="reviews"
    )
    rationale = models.TextField()
    reviewed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Review of request {self.match_request_id}: {self.decision}"


class ExaminerTraining(models.Model):
    """A face examiner's training record; a review needs one valid on the day (FR-02, FR-08)."""

    examiner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="examiner_trainings"
    )
    course = models.CharField(max_length=200)
    completed_on = models.DateField()
    valid_until = models.DateField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__gte=models.F("completed_on")),
                name="examiner_training_valid_after_completed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.course} for {self.examiner_id} until {self.valid_until}"


__all__ = [
    "CandidateStatus",
    "EnrollmentChunk",
    "EnrollmentRun",
    "EnrollmentStatus",
    "ExaminerReview",
    "ExaminerTraining",
    "FaceTemplate",
    "GalleryRemoval",
    "GallerySnapshot",
    "MatchCandidate",
    "MatchEvaluation",
    "MatchRequest",
    "MatchStatus",
    "ReviewDecision",
]
