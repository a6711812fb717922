"""The face match request: policy decision, search, candidate list, examiner review, release, discovery.

The flow the rules ask for (rules.md FR-02..FR-04, FR-06, FR-07, FR-09..FR-12):

1. A requester submits one probe with a written, case-bound request. Policy decides it exactly as it
   decides a records release (purpose, case number, eligible offense, narrative, agreement, single mode);
   a denial is logged and nothing is searched.
2. Matching is refused outright unless a passing FR-03 evaluation of the current model and threshold
   exists (``matching_evaluate``).
3. The probe is searched exactly against the current gallery snapshot; up to ``MATCH_LIST_SIZE`` (5–20)
   candidates under the report floor ``MATCH_THRESHOLD`` come back, each with the share of non-mated
   evaluation searches that found a stranger that close. The list is labelled INVESTIGATIVE LEAD ONLY and
   holds pseudonyms, never identities. Model, snapshot and threshold are logged with the search.
4. A trained examiner (role ``examiner``, training current, not the requester) records a decision and a
   rationale. Only a confirmed candidate's booking can then be released, through the release path.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from gateway.audit.models import AuditAction, ReleaseEffect
from gateway.audit.services import audit_event_record
from gateway.exceptions import NotFoundError
from gateway.faces.access import (
    MatchAccess,
    access_match_request_by_id,
    examiner_is_current,
)
from gateway.faces.gallery import (
    FaceMatchingError,
    FaceMatchingErrorCode,
    descriptor_from_bytes,
    embedder_get,
    gallery_search,
    gallery_snapshot_create,
    mugshots_eligible,
)
from gateway.faces.models import (
    CandidateStatus,
    ExaminerReview,
    FaceTemplate,
    GallerySnapshot,
    MatchCandidate,
    MatchEvaluation,
    MatchRequest,
    MatchStatus,
    ReviewDecision,
)
from gateway.recipients.roles import Role
from gateway.recipients.selectors import proxy_registered, staff_role_current, user_holds_role
from gateway.records.models import Person
from gateway.releases.services import Release, ReleaseStatus, release_records
from matching.exceptions import MatchingError
from matching.services import evaluation_gate, evaluation_run, fpir_at_distance
from policies.exceptions import KeyStoreError
from policies.services import decide, key_store_get, policy_set_get
from policies.types import Effect

__all__ = [
    "DEMONSTRATION_LABEL",
    "LEAD_LABEL",
    "examiner_review_record",
    "match_candidates_list",
    "match_discovery_bundle",
    "match_release",
    "match_request_submit",
    "matching_demonstration",
    "matching_evaluate",
    "matching_evaluation_current",
]

LEAD_LABEL = "INVESTIGATIVE LEAD ONLY – NOT PROBABLE CAUSE"
DEMONSTRATION_LABEL = "DEMONSTRATION: NO EVALUATION ADMITTED THIS MODEL"
MIN_LIST, MAX_LIST = 5, 20


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def _list_size() -> int:
    return max(MIN_LIST, min(MAX_LIST, int(_setting("MATCH_LIST_SIZE", 10))))


def _threshold() -> float:
    return float(_setting("MATCH_THRESHOLD", 0.6))


# ---------------------------------------------------------------------------------------- evaluation gate


def matching_demonstration() -> bool:
    """The labelled demonstration setting: matching on a gallery too small to evaluate honestly.

    The settings refuse it outside DEBUG, so production never runs a search no evaluation admitted.
    """
    return bool(settings.DEBUG and _setting("MATCH_DEMONSTRATION", False))


def matching_evaluation_current(*, model_id: str) -> MatchEvaluation | None:
    """The evaluation that admits searches with this model now, and so fixes their threshold (FR-03).

    The newest passing one, if recent enough (``MATCH_EVALUATION_MAX_AGE_DAYS``, default 365): each
    model version needs its own, and an old one must be redone. Under the demonstration setting only,
    the newest evaluation of the model stands in when none passed; its searches are labelled so.
    """
    oldest = timezone.now() - timedelta(days=int(_setting("MATCH_EVALUATION_MAX_AGE_DAYS", 365)))
    recent = MatchEvaluation.objects.filter(model_id=model_id, created_at__gte=oldest).order_by(
        "-created_at", "-id"
    )
    passing = recent.filter(passed=True).first()
    if passing is not None or not matching_demonstration():
        return passing
    return recent.first()


def _age_band(person: Person, booked_at: Any) -> str:
    age = person.age
    if person.date_of_birth and booked_at:
        born, at = person.date_of_birth, booked_at.date()
        age = at.year - born.year - ((at.month, at.day) < (born.month, born.day))
    if age is None:
        return "unknown"
    for limit, label in ((25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54")):
        if age < limit:
            return label
    return "55+"


def _held_out(person_id: int, *, seed: int, share: float) -> bool:
    digest = hashlib.sha256(f"{seed}:{person_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def matching_evaluate(
    *,
    embedder: str | None = None,
    threshold: float | None = None,
    list_size: int | None = None,
    holdout_share: float = 0.2,
    replicates: int = 1000,
    seed: int = 0,
    created_by: str = "",
) -> MatchEvaluation:
    """Evaluate the current model on the county's own enrolled templates and store the report.

    People photographed more than once give mated searches; a deterministic ``holdout_share`` of people
    is left out of the gallery and gives non-mated ones. Groups are race, sex and age band as booked.

    The threshold is calibrated on the non-mated searches (NIST FRTE practice) to the largest one whose
    exact (Clopper-Pearson) upper bound of FPIR stays under ``MATCH_EVALUATION_MAX_FPIR`` (default
    0.01); FNIR is then read at it. Pass ``threshold`` to evaluate a fixed one instead. The gate
    (``matching.services.evaluation_gate``) passes only if FPIR's bound holds overall and in every
    group, every group has enough searches (``MATCH_EVALUATION_MIN_NONMATED``, default 300, enough
    to show 0.01), FNIR stays under ``MATCH_EVALUATION_MAX_FNIR`` (default 0.02, Virginia's 98 %),
    and no group ratio is material. Under the demonstration setting the threshold is
    ``MATCH_THRESHOLD`` and the gate still reports honestly; it does not pass a small gallery.
    """
    model_id = embedder_get(name=embedder).model_id
    list_size = _list_size() if list_size is None else list_size
    rows = list(
        FaceTemplate.objects.filter(
            model_id=model_id, failure="", descriptor__isnull=False,
            mugshot__in=mugshots_eligible(),
        )
        .select_related("person", "booking", "mugshot")
        .order_by("pk")
    )  # fmt: skip
    if not rows:
        raise FaceMatchingError(
            "no enrolled templates to evaluate", code=FaceMatchingErrorCode.GALLERY_EMPTY
        )
    demonstration = matching_demonstration()
    if threshold is None and demonstration:
        threshold = _threshold()
    max_fpir = float(_setting("MATCH_EVALUATION_MAX_FPIR", 0.01))
    report = evaluation_run(
        descriptors=np.stack([descriptor_from_bytes(t.descriptor) for t in rows]),
        subject_ids=[t.person_id for t in rows],
        enrolled=[not _held_out(t.person_id, seed=seed, share=holdout_share) for t in rows],
        groups={
            "race": [t.person.race or "unknown" for t in rows],
            "sex": [t.person.sex for t in rows],
            "age_band": [_age_band(t.person, t.booking.booked_at) for t in rows],
        },
        list_size=list_size,
        threshold=threshold,
        target_fpir=None if threshold is not None else max_fpir,
        capture_order=[
            (t.mugshot.captured_at or t.booking.booked_at or t.enrolled_at).timestamp()
            for t in rows
        ],
        replicates=replicates,
        ratio_trigger=float(_setting("MATCH_RATIO_TRIGGER", 2.0)),
        seed=seed,
    )
    gate = evaluation_gate(
        report=report,
        max_fpir=max_fpir,
        max_fnir=float(_setting("MATCH_EVALUATION_MAX_FNIR", 0.02)),
        min_mated_per_group=int(_setting("MATCH_EVALUATION_MIN_MATED", 5)),
        min_nonmated_per_group=int(_setting("MATCH_EVALUATION_MIN_NONMATED", 300)),
    )
    evaluation = MatchEvaluation(
        model_id=model_id,
        threshold=report.threshold,
        list_size=list_size,
        passed=gate.passed,
        report={**report.as_dict(), "gate": gate.as_dict(), "demonstration": demonstration},
        created_by=created_by,
    )
    evaluation.full_clean()
    evaluation.save()
    return evaluation


# --------------------------------------------------------------------------------------------- searching


def _decision(request: Mapping[str, Any]) -> tuple[str, list[dict[str, str]], str]:
    """Policy's answer for the request itself (no records yet): effect, reasons, policy version."""
    policy_set = policy_set_get(dirs=list(settings.POLICY_DIRS))
    try:
        keys = key_store_get(path=settings.POLICY_KEYS_FILE)
    except KeyStoreError:  # a missing key store must deny, never crash (policies fail closed too)
        keys = None
    decision = decide(
        request=request,
        policy_set=policy_set,
        keys=keys,
        proxy_registered=proxy_registered(request=request),
    )
    reasons = [
        {"code": str(r.code), "rule": r.rule, "message": r.message} for r in decision.reasons
    ]
    return str(decision.effect), reasons, decision.policy_version


def _audit(
    *, match: MatchRequest, actor: str, action: AuditAction, effect: str, extra: dict[str, Any]
) -> None:
    audit_event_record(
        action=action,
        actor=actor,
        outcome=effect,
        recipient=match.recipient or {},
        on_behalf_of=match.on_behalf_of,
        purpose=match.purpose,
        case_number=match.case_number,
        reasons=match.reasons,
        subject_refs=[f"match_request#{match.pk}"],
        detail={
            "match_request": match.pk,
            "model_id": match.model_id,
            "snapshot": match.snapshot_id,
            "threshold": match.threshold,
            "list_size": match.list_size,
            "label": match.label,
            **extra,
        },
        policy_version=match.policy_version,
    )


def match_request_submit(
    *,
    requester: User,
    recipient: Mapping[str, Any],
    on_behalf_of: Mapping[str, Any] | None,
    purpose: str,
    case_number: str,
    offense_statute: str,
    narrative: str,
    probe: bytes,
    mode: str = "single",
    documents: Sequence[Mapping[str, Any]] = (),
) -> MatchRequest:
    """Decide, search and store one probe's candidate list; returns the request with its status.

    Raises ``FaceMatchingError`` (``matching_not_evaluated``) when no passing evaluation of the
    current model and threshold exists. Every other outcome (denied, unusable probe, no candidate,
    candidates awaiting review) is stored and audited, so refused and empty searches are disclosed too.
    """
    embedder = embedder_get()
    list_size = _list_size()
    evaluation = matching_evaluation_current(model_id=embedder.model_id)
    if evaluation is None:
        raise FaceMatchingError(
            f"no passing evaluation of {embedder.model_id}",
            code=FaceMatchingErrorCode.NOT_EVALUATED,
        )
    threshold = (
        evaluation.threshold
    )  # the one the evaluation calibrated (or, demonstrating, was given)
    request = {
        "recipient": dict(recipient),
        "on_behalf_of": dict(on_behalf_of) if on_behalf_of is not None else None,
        "purpose": purpose,
        "case_number": case_number,
        "offense_statute": offense_statute,
        "narrative": narrative,
        "mode": mode,
        "documents": [dict(d) for d in documents],
        "records": [],
    }
    effect, reasons, policy_version = _decision(request)
    match = MatchRequest(
        requester=requester,
        recipient=dict(recipient),
        on_behalf_of=request["on_behalf_of"],
        purpose=purpose,
        case_number=case_number,
        offense_statute=offense_statute,
        narrative=narrative,
        mode=mode,
        documents=request["documents"],
        probe_sha256=hashlib.sha256(probe).hexdigest(),
        status=MatchStatus.DENIED,
        reasons=reasons,
        policy_version=policy_version,
        model_id=embedder.model_id,
        threshold=threshold,
        list_size=list_size,
        evaluation=evaluation,
        label=LEAD_LABEL if evaluation.passed else f"{LEAD_LABEL} – {DEMONSTRATION_LABEL}",
    )
    if effect == str(Effect.PERMIT) and mode != "single":  # FR-04: one probe, one case, always
        match.reasons = [
            {"code": "DENY_SURVEILLANCE_MODE", "rule": "FR-04", "message": f"mode {mode!r}"}
        ]
        effect = str(Effect.DENY)
    if effect != str(Effect.PERMIT):
        return _store(match=match, actor=requester, candidates=[])
    try:
        vector = embedder.embed(probe)
    except (MatchingError, FaceMatchingError) as exc:
        match.status = MatchStatus.PROBE_REJECTED
        match.reasons = [*reasons, {"code": str(exc.code), "rule": "", "message": str(exc)}]
        return _store(match=match, actor=requester, candidates=[])
    match.probe_descriptor = np.asarray(vector, dtype="<f4").tobytes()
    snapshot = _snapshot_current(model_id=embedder.model_id)
    match.snapshot = snapshot
    found = gallery_search(snapshot=snapshot, probe=vector, k=list_size)
    best = evaluation.report.get("nonmated_best_distances", [])
    candidates = [
        (template_id, distance, fpir_at_distance(nonmated_best_distances=best, distance=distance))
        for template_id, distance in zip(found.ids, found.distances, strict=True)
        if distance < threshold
    ]
    match.status = MatchStatus.PENDING_REVIEW if candidates else MatchStatus.NO_CANDIDATES
    return _store(match=match, actor=requester, candidates=candidates)


def _snapshot_current(*, model_id: str) -> GallerySnapshot:
    """The newest snapshot of this model, or a new one if templates were enrolled since."""
    snapshot = GallerySnapshot.objects.filter(model_id=model_id).order_by("-pk").first()
    newest = (
        FaceTemplate.objects.filter(model_id=model_id).order_by("-pk").values_list("pk", flat=True)
    ).first()
    if snapshot is None or (newest or 0) > snapshot.last_template_id:
        snapshot = gallery_snapshot_create(model_id=model_id)
    return snapshot


@transaction.atomic
def _store(
    *,
    match: MatchRequest,
    actor: User,
    candidates: Sequence[tuple[int, float, float | None]],
) -> MatchRequest:
    match.full_clean()
    match.save()
    bookings = dict(
        FaceTemplate.objects.filter(pk__in=[c[0] for c in candidates]).values_list(
            "pk", "booking_id"
        )
    )
    MatchCandidate.objects.bulk_create(
        MatchCandidate(
            match_request=match,
            rank=rank,
            pseudonym=f"C-{secrets.token_hex(6)}",
            template_id=template_id,
            booking_id=bookings.get(template_id),
            distance=distance,
            nonmated_share=share,
        )
        for rank, (template_id, distance, share) in enumerate(candidates, start=1)
    )
    effect = ReleaseEffect.DENY if match.status == MatchStatus.DENIED else ReleaseEffect.REVIEW
    _audit(
        match=match,
        actor=actor.get_username(),
        action=AuditAction.FACE_SEARCH,
        effect=effect,
        extra={"status": match.status, "candidates": len(candidates)},
    )
    return match


def match_candidates_list(*, user: User, match_request_id: int) -> dict[str, Any]:
    """The candidate list as an examiner or compliance sees it: pseudonyms, ranks, scores, context.

    Never the requester's (FR-02: the list goes to a trained examiner, not to whoever asked). No identity
    and no booking data: those leave only through the release path after review. Every read, and every
    refused read, is audited.
    """
    try:
        match = access_match_request_by_id(
            user=user,
            match_request_id=match_request_id,
            reasons=(MatchAccess.EXAMINER, MatchAccess.OVERSIGHT),
        )
    except NotFoundError:
        _audit_refused_read(
            user=user, action=AuditAction.FACE_CANDIDATES_VIEW, ref=match_request_id
        )
        raise
    _audit(
        match=match,
        actor=user.get_username(),
        action=AuditAction.FACE_CANDIDATES_VIEW,
        effect=ReleaseEffect.PERMIT,
        extra={"candidates": match.candidates.count()},
    )
    return {
        "match_request": match.pk,
        "label": match.label,
        "status": match.status,
        "case_number": match.case_number,
        "model_id": match.model_id,
        "snapshot": match.snapshot_id,
        "threshold": match.threshold,
        "candidates": [
            {
                "rank": c.rank,
                "candidate": c.pseudonym,
                "distance": round(c.distance, 4),
                "nonmated_share": c.nonmated_share,
                "status": c.status,
            }
            for c in match.candidates.order_by("rank")
        ],
        "note": (
            "Ranked by similarity only. nonmated_share is the share of evaluation searches for people "
            "not in the gallery whose closest stranger was at least this close."
        ),
    }


def _audit_refused_read(*, user: Any, action: AuditAction, ref: Any) -> None:
    """A refused read is audited like a granted one, without saying whether the object exists."""
    audit_event_record(
        action=action,
        actor=user.get_username() if getattr(user, "is_authenticated", False) else "anonymous",
        outcome=ReleaseEffect.DENY,
        detail={"asked_for": str(ref)[:80]},
        error_code="not_found",
    )


# -------------------------------------------------------------------------------------------- review


def _examiner_check(*, examiner: Any) -> None:
    """FR-02, FR-09: only a face examiner with current training may review."""
    if not user_holds_role(user=examiner, role=Role.EXAMINER):
        raise FaceMatchingError(
            "only a face examiner may review", code=FaceMatchingErrorCode.NOT_AN_EXAMINER
        )
    if not examiner_is_current(user=examiner):
        raise FaceMatchingError(
            "the examiner's training is not current",
            code=FaceMatchingErrorCode.TRAINING_NOT_CURRENT,
        )


def _review_check(*, match: MatchRequest, examiner: Any, rationale: str) -> None:
    """FR-02: the list awaits review, the examiner is not the requester, the rationale is written."""
    if match.status != MatchStatus.PENDING_REVIEW:
        raise FaceMatchingError(
            f"request is {match.status}, not awaiting review",
            code=FaceMatchingErrorCode.WRONG_STATE,
        )
    if examiner.pk == match.requester_id:
        raise FaceMatchingError(
            "the requester may not review their own search",
            code=FaceMatchingErrorCode.REVIEWER_IS_REQUESTER,
        )
    if len(rationale.strip()) < int(_setting("MATCH_RATIONALE_MIN_LENGTH", 40)):
        raise FaceMatchingError(
            "a review needs a written rationale", code=FaceMatchingErrorCode.RATIONALE_TOO_SHORT
        )


@transaction.atomic
def examiner_review_record(
    *,
    match_request_id: int,
    examiner: User,
    decision: ReviewDecision | str,
    rationale: str,
    candidate: str | None = None,
) -> ExaminerReview:
    """Record an examiner's decision on a candidate list (FR-02).

    ``confirmed`` names one ``candidate`` pseudonym; the others are marked excluded. ``no_match`` and
    ``inconclusive`` close the request with nothing to release.
    """
    _examiner_check(examiner=examiner)  # about the user alone, so it reveals nothing about the id
    match = access_match_request_by_id(
        user=examiner,
        match_request_id=match_request_id,
        reasons=(MatchAccess.EXAMINER, MatchAccess.REQUESTER),  # their own: refused below, by name
        for_update=True,
    )
    _review_check(match=match, examiner=examiner, rationale=rationale)
    decision = ReviewDecision(decision)
    chosen = None
    if decision == ReviewDecision.CONFIRMED:
        chosen = match.candidates.filter(pseudonym=candidate or "").first()
        if chosen is None:
            raise FaceMatchingError(
                "confirm one candidate of this list", code=FaceMatchingErrorCode.CANDIDATE_UNKNOWN
            )
        match.candidates.exclude(pk=chosen.pk).update(status=CandidateStatus.EXCLUDED)
        chosen.status = CandidateStatus.CONFIRMED
        chosen.save(update_fields=["status"])
        match.status = MatchStatus.CONFIRMED
    else:
        match.candidates.update(status=CandidateStatus.EXCLUDED)
        match.status = MatchStatus.NO_MATCH
    match.save(update_fields=["status"])
    review = ExaminerReview(
        match_request=match,
        examiner=examiner,
        decision=decision,
        candidate=chosen,
        rationale=rationale.strip(),
    )
    review.full_clean()
    review.save()
    _audit(
        match=match,
        actor=examiner.get_username(),
        action=AuditAction.FACE_REVIEW,
        effect=ReleaseEffect.REVIEW,
        extra={"decision": str(decision), "candidate": chosen.pseudonym if chosen else None},
    )
    return review


# -------------------------------------------------------------------------------------------- release


def match_release(*, match_request_id: int, requester: User) -> Release:
    """Release the confirmed candidate's booking to the requester, through the single release path.

    Only after an examiner confirmed a candidate (FR-02), only to the person who asked, and only under
    the request's own recipient, purpose and case (FR-10): the release path re-decides it with the
    booking loaded from the database, applies the agreement's field rules and audits it. The examiner
    is the second person the agreement's human-review obligation asks for.
    """
    match = access_match_request_by_id(
        user=requester, match_request_id=match_request_id, reasons=(MatchAccess.REQUESTER,)
    )
    if match.status not in (MatchStatus.CONFIRMED, MatchStatus.RELEASED):
        raise FaceMatchingError(
            f"request is {match.status}; nothing confirmed to release",
            code=FaceMatchingErrorCode.WRONG_STATE,
        )
    review = match.reviews.select_related("candidate__booking", "examiner").latest("pk")
    booking = review.candidate.booking if review.candidate else None
    numbers = [booking.booking_number] if booking is not None else []
    release = release_records(
        request={
            "recipient": match.recipient,
            "on_behalf_of": match.on_behalf_of,
            "purpose": match.purpose,
            "case_number": match.case_number,
            "offense_statute": match.offense_statute,
            "narrative": match.narrative,
            "mode": match.mode,
            "documents": list(match.documents),
        },
        booking_numbers=numbers,
        requested_by=requester.get_username(),
        reviewed_by=review.examiner.get_username(),
    )
    if release.status == ReleaseStatus.RELEASED:
        match.status = MatchStatus.RELEASED
        match.release_id = release.release_id
        match.save(update_fields=["status", "release_id"])
    return release


# ----------------------------------------------------------------------------------------- disclosure


def match_discovery_bundle(*, user: User, case_number: str) -> dict[str, Any]:
    """Everything FR-07 asks to disclose for a case, rebuilt from the logs; audited, read or refused.

    System and algorithm version, gallery snapshot, probe hash, the full candidate list with ranks and
    scores, reviewer decisions and rationales, and the searches that were denied or found nothing.
    Candidates appear by pseudonym; an identity leaves only through the release path. Only compliance
    may read it today (a defence office linked to the case comes with its own issue); anyone else, and a
    case with no search, get the same ``NotFoundError``.
    """
    requests = MatchRequest.objects.filter(case_number=case_number).order_by("created_at", "pk")
    if not staff_role_current(user=user, role=Role.COMPLIANCE) or not requests.exists():
        _audit_refused_read(user=user, action=AuditAction.FACE_DISCOVERY, ref="case")
        raise NotFoundError("no such case")
    searches = []
    for match in requests.select_related("snapshot", "requester"):
        snapshot = match.snapshot
        searches.append(
            {
                "match_request": match.pk,
                "submitted_at": match.created_at.isoformat(),
                "requester": match.requester.get_username(),
                "purpose": match.purpose,
                "offense_statute": match.offense_statute,
                "status": match.status,
                "reasons": match.reasons,
                "label": match.label,
                "system": "Custodian local face matching",
                "algorithm": match.model_id,
                "threshold": match.threshold,
                "list_size": match.list_size,
                "policy_version": match.policy_version,
                "evaluation": match.evaluation_id,
                "gallery_snapshot": (
                    {
                        "id": snapshot.pk,
                        "faces": snapshot.template_count,
                        "digest": snapshot.digest,
                        "taken_at": snapshot.created_at.isoformat(),
                    }
                    if snapshot
                    else None
                ),
                "probe_sha256": match.probe_sha256,
                "release_id": match.release_id,
                "candidates": [
                    {
                        "rank": c.rank,
                        "candidate": c.pseudonym,
                        "distance": c.distance,
                        "nonmated_share": c.nonmated_share,
                        "status": c.status,
                    }
                    for c in match.candidates.order_by("rank")
                ],
                "reviews": [
                    {
                        "examiner": r.examiner.get_username(),
                        "decision": r.decision,
                        "candidate": r.candidate.pseudonym if r.candidate else None,
                        "rationale": r.rationale,
                        "reviewed_at": r.reviewed_at.isoformat(),
                    }
                    for r in match.reviews.select_related("examiner", "candidate").order_by("pk")
                ],
            }
        )
    audit_event_record(
        action=AuditAction.FACE_DISCOVERY,
        actor=user.get_username(),
        outcome=ReleaseEffect.PERMIT,
        case_number=case_number,
        subject_refs=[f"match_request#{s['match_request']}" for s in searches],
        detail={"searches": len(searches)},
    )
    return {"case_number": case_number, "label": LEAD_LABEL, "searches": searches}
