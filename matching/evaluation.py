"""FNIR and FPIR of 1:N search, overall and per demographic group, with bootstrap intervals.

Why this exists: rules FR-03 and RCW 43.386.050 require testing for "unfair performance
differences across distinct subpopulations" before and during production use, and the county
already holds the ground truth: the same person photographed at different bookings.

Protocol (NIST FRTE 1:N, investigation mode with a threshold; docs/matching.md):

* **Mated searches.** For each enrolled subject with two or more photos, the latest photo is
  the probe and the earlier ones are in the gallery. A miss (FNIR) is when none of the
  subject's gallery photos is among the first ``list_size`` candidates at a distance below
  ``threshold``.
* **Non-mated searches.** Subjects marked not enrolled are left out of the gallery entirely;
  their latest photo is the probe. A false positive (FPIR) is any candidate at all within the
  first ``list_size`` below ``threshold``.
* Enrolled subjects with a single photo stay in the gallery as distractors.
* Groups are the probe subject's recorded labels (race, sex, age band, …) as booked; each
  attribute is reported separately. Intervals are percentile bootstraps over *subjects*
  (each probe is one subject), resampled within each group, so the max/min ratio between
  groups gets an interval from the same replicates.
* FPIR also gets an exact one-sided Clopper-Pearson upper bound (``fpir_upper``, at
  ``confidence``): a bootstrap of zero false hits is [0, 0] however few the searches, so
  only the exact bound can show that FPIR is under a cap (``matching.gate``).
* The threshold is either given or calibrated (NIST FRTE practice: FNIR is read at the
  threshold where FPIR meets a target): ``threshold_calibrate`` picks the largest distance at
  which the Clopper-Pearson bound of FPIR on the non-mated searches is at or under
  ``target_fpir``. Calibrating and measuring on the same searches meets the target overall by
  construction; the per-group bounds are the real test. For a stricter protocol, calibrate on
  one held-out set and pass the threshold to a run on another.

Only plain arrays go in and plain dicts come out, so the gateway can feed it records and
store the report without ``matching`` knowing about either.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.binomial import clopper_pearson_upper
from matching.search import GalleryIndex

__all__ = [
    "EvaluationReport",
    "GroupRates",
    "RatioSummary",
    "ThresholdCalibration",
    "evaluation_run",
    "fpir_at_distance",
    "threshold_calibrate",
]

SMALL_CELL = 5  # groups with fewer searches are reported but flagged (and suppressed in public)


@dataclass(frozen=True)
class GroupRates:
    """Error rates of one group (or ``overall``) with 95 % bootstrap intervals.

    ``fpir_upper`` is the exact one-sided Clopper-Pearson upper bound of FPIR at the report's
    ``confidence``; None when the group had no non-mated search.
    """

    attribute: str
    group: str
    mated_searches: int
    nonmated_searches: int
    fnir: float | None
    fnir_ci: tuple[float, float] | None
    fpir: float | None
    fpir_ci: tuple[float, float] | None
    small_cell: bool
    # Investigation mode (NIST FRTE, threshold zero): the mate is not the first candidate.
    rank1_miss_rate: float | None = None
    fpir_upper: float | None = None


@dataclass(frozen=True)
class RatioSummary:
    """Max/min ratio of a rate across the groups of one attribute (NISTIR 8429 style).

    ``ratio`` is None when the smallest rate is zero (the ratio is unbounded); ``material``
    is True when the interval's lower end exceeds the policy trigger (FR-03 mitigation plan).
    """

    attribute: str
    metric: str
    highest_group: str
    lowest_group: str
    ratio: float | None
    ratio_ci: tuple[float, float] | None
    material: bool


@dataclass(frozen=True)
class ThresholdCalibration:
    """The threshold chosen so that FPIR is shown, at ``confidence``, to be at most ``target_fpir``.

    ``threshold`` is None when no threshold can show it: with zero false hits the bound is
    ``1 - (1 - confidence) ** (1 / n)``, so ``min_nonmated_searches`` searches are needed before
    any threshold qualifies (299 for 1 % at 95 %). ``false_hits``, ``fpir`` and ``fpir_upper``
    are read at the threshold (a search is a false hit when its best candidate is closer).
    """

    target_fpir: float
    confidence: float
    nonmated_searches: int
    min_nonmated_searches: int
    threshold: float | None
    false_hits: int
    fpir: float | None
    fpir_upper: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "target_fpir": self.target_fpir,
            "confidence": self.confidence,
            "nonmated_searches": self.nonmated_searches,
            "min_nonmated_searches": self.min_nonmated_searches,
            "threshold": self.threshold,
            "false_hits": self.false_hits,
            "fpir": self.fpir,
            "fpir_upper": self.fpir_upper,
        }


@dataclass(frozen=True)
class EvaluationReport:
    """Everything the accountability report needs, as plain values.

    ``calibration`` is set when the threshold was calibrated rather than given; ``threshold`` is
    then the calibrated one, or 0.0 (nothing is ever close enough) when none qualified.
    """

    list_size: int
    threshold: float
    gallery_size: int
    overall: GroupRates
    groups: tuple[GroupRates, ...]
    ratios: tuple[RatioSummary, ...]
    nonmated_best_distances: tuple[float, ...]
    bootstrap_replicates: int
    ratio_trigger: float
    confidence: float = 0.95
    calibration: ThresholdCalibration | None = None

    def rows(self) -> list[dict[str, Any]]:
        """One row per group, overall first: the accountability-report table."""
        return [_row(r) for r in (self.overall, *self.groups)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "list_size": self.list_size,
            "threshold": self.threshold,
            "gallery_size": self.gallery_size,
            "bootstrap_replicates": self.bootstrap_replicates,
            "ratio_trigger": self.ratio_trigger,
            "confidence": self.confidence,
            "calibration": self.calibration.as_dict() if self.calibration else None,
            "rows": self.rows(),
            "ratios": [
                {
                    "attribute": r.attribute,
                    "metric": r.metric,
                    "highest_group": r.highest_group,
                    "lowest_group": r.lowest_group,
                    "ratio": r.ratio,
                    "ratio_ci": list(r.ratio_ci) if r.ratio_ci else None,
                    "material": r.material,
                }
                for r in self.ratios
            ],
            "nonmated_best_distances": list(self.nonmated_best_distances),
        }


def _row(rates: GroupRates) -> dict[str, Any]:
    return {
        "attribute": rates.attribute,
        "group": rates.group,
        "mated_searches": rates.mated_searches,
        "nonmated_searches": rates.nonmated_searches,
        "fnir": rates.fnir,
        "fnir_ci": list(rates.fnir_ci) if rates.fnir_ci else None,
        "fpir": rates.fpir,
        "fpir_ci": list(rates.fpir_ci) if rates.fpir_ci else None,
        "fpir_upper": rates.fpir_upper,
        "small_cell": rates.small_cell,
        "rank1_miss_rate": rates.rank1_miss_rate,
    }


def fpir_at_distance(*, nonmated_best_distances: Sequence[float], distance: float) -> float | None:
    """Share of non-mated searches whose best (wrong) candidate was at least this close.

    The calibrated score context shown with a candidate: "this close a face turned up for
    X % of people who were not in the gallery". None when there were no non-mated searches.
    """
    best = np.sort(np.asarray(nonmated_best_distances, dtype=np.float64))
    if best.size == 0:
        return None
    return float(np.searchsorted(best, distance, side="right") / best.size)


def threshold_calibrate(
    *, nonmated_best_distances: Sequence[float], target_fpir: float = 0.01, confidence: float = 0.95
) -> ThresholdCalibration:
    """The largest threshold at which the Clopper-Pearson upper bound of FPIR is at most the target.

    Why the bound and not the rate: the empirical FPIR of a few hundred searches can be 0 at a
    threshold whose true FPIR is several percent. A search is a false hit when its best
    candidate is strictly closer than the threshold, so with the distances sorted the answer
    is the (k+1)-th smallest, k being the most false hits the bound allows.
    """
    if not 0.0 < target_fpir < 1.0:
        raise ValueError(f"target_fpir must be between 0 and 1, not {target_fpir}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    best = np.sort(np.asarray(nonmated_best_distances, dtype=np.float64))
    searches = int(best.size)
    needed = math.ceil(math.log1p(-confidence) / math.log1p(-target_fpir) - 1e-9)
    allowed = _most_false_hits_allowed(searches=searches, target=target_fpir, confidence=confidence)
    if allowed is None:
        return ThresholdCalibration(
            target_fpir=target_fpir, confidence=confidence, nonmated_searches=searches,
            min_nonmated_searches=needed, threshold=None, false_hits=0, fpir=None, fpir_upper=None,
        )  # fmt: skip
    threshold = float(best[allowed])  # allowed < searches: all false hits bound FPIR at 1
    false_hits = int(np.searchsorted(best, threshold, side="left"))  # ties with it are not hits
    return ThresholdCalibration(
        target_fpir=target_fpir,
        confidence=confidence,
        nonmated_searches=searches,
        min_nonmated_searches=needed,
        threshold=threshold,
        false_hits=false_hits,
        fpir=false_hits / searches,
        fpir_upper=clopper_pearson_upper(
            successes=false_hits, trials=searches, confidence=confidence
        ),
    )


def _most_false_hits_allowed(*, searches: int, target: float, confidence: float) -> int | None:
    """The largest k whose upper bound is within the target (the bound grows with k), or None."""

    def within(k: int) -> bool:
        bound = clopper_pearson_upper(successes=k, trials=searches, confidence=confidence)
        return bound <= target

    if searches == 0 or not within(0):
        return None
    low, high = 0, searches  # within(low) holds; find the last k that does
    while low < high:
        middle = (low + high + 1) // 2
        if within(middle):
            low = middle
        else:
            high = middle - 1
    return low


@dataclass(frozen=True)
class _Searches:
    """What every search found, before any threshold is applied."""

    mated_rows: npt.NDArray[np.intp]  # probe row per mated search
    mate_distance: npt.NDArray[np.float64]  # closest mate within the list (inf: none listed)
    rank1_misses: npt.NDArray[np.bool_]
    nonmated_rows: npt.NDArray[np.intp]
    best_nonmate: npt.NDArray[np.float64]  # closest candidate of a non-mated search (inf: none)
    gallery_size: int


@dataclass(frozen=True)
class _Outcomes:
    mated_rows: npt.NDArray[np.intp]
    misses: npt.NDArray[np.bool_]
    rank1_misses: npt.NDArray[np.bool_]
    nonmated_rows: npt.NDArray[np.intp]
    false_hits: npt.NDArray[np.bool_]
    best_nonmate: npt.NDArray[np.float64]
    gallery_size: int

    @classmethod
    def at(cls, searches: _Searches, threshold: float) -> _Outcomes:
        return cls(
            mated_rows=searches.mated_rows,
            misses=~(searches.mate_distance < threshold),
            rank1_misses=searches.rank1_misses,
            nonmated_rows=searches.nonmated_rows,
            false_hits=searches.best_nonmate < threshold,
            best_nonmate=searches.best_nonmate,
            gallery_size=searches.gallery_size,
        )


def evaluation_run(
    *,
    descriptors: npt.NDArray[np.float32],
    subject_ids: Sequence[Any],
    enrolled: Sequence[bool],
    groups: Mapping[str, Sequence[str]],
    list_size: int,
    threshold: float | None = None,
    target_fpir: float | None = None,
    capture_order: Sequence[float] | None = None,
    replicates: int = 1000,
    ratio_trigger: float = 2.0,
    seed: int = 0,
    confidence: float = 0.95,
) -> EvaluationReport:
    """Run mated and non-mated searches and report FNIR/FPIR overall and per group.

    One row per photo: ``descriptors[i]`` belongs to ``subject_ids[i]``; ``enrolled[i]`` says
    whether that subject is in the gallery (the same for all its photos); ``groups`` maps an
    attribute name to one label per photo; ``capture_order`` (for example booking time) picks
    each subject's latest photo as the probe (default: the last row of the subject).
    ``confidence`` is that of the one-sided FPIR bound (``fpir_upper``).

    Give either ``threshold`` or ``target_fpir``. With ``target_fpir`` the threshold is
    calibrated on these non-mated searches (``threshold_calibrate``) and FNIR is read there.
    """
    rows = len(subject_ids)
    if descriptors.shape[0] != rows or len(enrolled) != rows:
        raise ValueError("descriptors, subject_ids and enrolled need one entry per photo")
    for name, labels in groups.items():
        if len(labels) != rows:
            raise ValueError(f"group attribute {name!r} needs one label per photo")
    if (threshold is None) == (target_fpir is None):
        raise ValueError("give either a threshold or a target_fpir to calibrate one, not both")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    searches = _search_all(
        descriptors=np.asarray(descriptors, dtype=np.float32),
        subject_ids=list(subject_ids),
        enrolled=np.asarray(enrolled, dtype=bool),
        order=np.asarray(capture_order if capture_order is not None else np.arange(rows), float),
        list_size=list_size,
    )
    calibration, applied = None, 0.0 if threshold is None else threshold
    if target_fpir is not None:
        calibration = threshold_calibrate(
            nonmated_best_distances=searches.best_nonmate.tolist(),
            target_fpir=target_fpir,
            confidence=confidence,
        )
        applied = 0.0 if calibration.threshold is None else calibration.threshold
    outcomes = _Outcomes.at(searches, applied)
    rng = np.random.default_rng(seed)
    overall = _rates(
        attribute="overall",
        group="overall",
        misses=outcomes.misses,
        false_hits=outcomes.false_hits,
        rng=rng,
        replicates=replicates,
        confidence=confidence,
        rank1_misses=outcomes.rank1_misses,
    )
    group_rates: list[GroupRates] = []
    ratios: list[RatioSummary] = []
    for attribute, labels in groups.items():
        label_array = np.asarray([str(v) for v in labels])
        attr_rates, attr_ratios = _attribute_rates(
            attribute=attribute,
            mated_labels=label_array[outcomes.mated_rows],
            nonmated_labels=label_array[outcomes.nonmated_rows],
            outcomes=outcomes,
            rng=rng,
            replicates=replicates,
            ratio_trigger=ratio_trigger,
            confidence=confidence,
        )
        group_rates.extend(attr_rates)
        ratios.extend(attr_ratios)
    return EvaluationReport(
        list_size=list_size,
        threshold=applied,
        gallery_size=outcomes.gallery_size,
        overall=overall,
        groups=tuple(group_rates),
        ratios=tuple(ratios),
        nonmated_best_distances=tuple(float(d) for d in np.sort(outcomes.best_nonmate)),
        bootstrap_replicates=replicates,
        ratio_trigger=ratio_trigger,
        confidence=confidence,
        calibration=calibration,
    )


def _search_all(
    *,
    descriptors: npt.NDArray[np.float32],
    subject_ids: list[Any],
    enrolled: npt.NDArray[np.bool_],
    order: npt.NDArray[np.float64],
    list_size: int,
) -> _Searches:
    """Split photos into probes and gallery and search every probe; no threshold yet."""
    by_subject: dict[Any, list[int]] = {}
    for row, subject in enumerate(subject_ids):
        by_subject.setdefault(subject, []).append(row)
    mated, nonmated, gallery_rows = [], [], []
    for rows in by_subject.values():
        rows.sort(key=lambda r: (order[r], r))
        if not enrolled[rows[0]]:
            nonmated.append(rows[-1])
        elif len(rows) >= 2:
            mated.append(rows[-1])
            gallery_rows.extend(rows[:-1])
        else:
            gallery_rows.extend(rows)
    gallery = np.asarray(sorted(gallery_rows), dtype=np.int64)
    index = GalleryIndex.build(ids=gallery, descriptors=descriptors[gallery])
    mate_distance = np.full(len(mated), math.inf)
    rank1_misses = np.zeros(len(mated), dtype=bool)
    for i, row in enumerate(mated):
        hit = index.search(probe=descriptors[row], k=list_size)
        mate_distance[i] = min(
            (
                d
                for g, d in zip(hit.ids, hit.distances, strict=True)
                if subject_ids[g] == subject_ids[row]
            ),
            default=math.inf,
        )
        rank1_misses[i] = not hit.ids or subject_ids[hit.ids[0]] != subject_ids[row]
    best = np.full(len(nonmated), math.inf)
    for i, row in enumerate(nonmated):
        hit = index.search(probe=descriptors[row], k=list_size)
        if hit.distances:
            best[i] = hit.distances[0]
    return _Searches(
        mated_rows=np.asarray(mated, dtype=np.intp),
        mate_distance=mate_distance,
        rank1_misses=rank1_misses,
        nonmated_rows=np.asarray(nonmated, dtype=np.intp),
        best_nonmate=best,
        gallery_size=len(gallery),
    )


def _bootstrap_means(
    values: npt.NDArray[np.bool_], rng: np.random.Generator, replicates: int
) -> npt.NDArray[np.float64]:
    """Means of ``replicates`` resamples (with replacement) of one group's outcomes."""
    if values.size == 0:
        return np.full(replicates, np.nan)
    picks = rng.integers(0, values.size, size=(replicates, values.size))
    return values[picks].mean(axis=1)


def _interval(samples: npt.NDArray[np.float64]) -> tuple[float, float] | None:
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        return None
    low, high = np.percentile(finite, [2.5, 97.5])
    return (float(low), float(high))


def _rates(
    *,
    attribute: str,
    group: str,
    misses: npt.NDArray[np.bool_],
    false_hits: npt.NDArray[np.bool_],
    rng: np.random.Generator,
    replicates: int,
    confidence: float,
    rank1_misses: npt.NDArray[np.bool_] | None = None,
) -> GroupRates:
    fnir_samples = _bootstrap_means(misses, rng, replicates)
    fpir_samples = _bootstrap_means(false_hits, rng, replicates)
    return GroupRates(
        attribute=attribute,
        group=group,
        mated_searches=int(misses.size),
        nonmated_searches=int(false_hits.size),
        fnir=float(misses.mean()) if misses.size else None,
        fnir_ci=_interval(fnir_samples) if misses.size else None,
        fpir=float(false_hits.mean()) if false_hits.size else None,
        fpir_ci=_interval(fpir_samples) if false_hits.size else None,
        small_cell=min(misses.size, false_hits.size) < SMALL_CELL,
        rank1_miss_rate=(
            float(rank1_misses.mean()) if rank1_misses is not None and rank1_misses.size else None
        ),
        fpir_upper=(
            clopper_pearson_upper(
                successes=int(false_hits.sum()), trials=int(false_hits.size), confidence=confidence
            )
            if false_hits.size
            else None
        ),
    )


def _attribute_rates(
    *,
    attribute: str,
    mated_labels: npt.NDArray[np.str_],
    nonmated_labels: npt.NDArray[np.str_],
    outcomes: _Outcomes,
    rng: np.random.Generator,
    replicates: int,
    ratio_trigger: float,
    confidence: float,
) -> tuple[list[GroupRates], list[RatioSummary]]:
    """Per-group rates of one attribute, then the max/min ratio of each rate with its CI."""
    labels = sorted(set(mated_labels.tolist()) | set(nonmated_labels.tolist()))
    rates: list[GroupRates] = []
    replicate_means: dict[str, dict[str, npt.NDArray[np.float64]]] = {"fnir": {}, "fpir": {}}
    for label in labels:
        misses = outcomes.misses[mated_labels == label]
        false_hits = outcomes.false_hits[nonmated_labels == label]
        rates.append(
            _rates(
                attribute=attribute,
                group=label,
                misses=misses,
                false_hits=false_hits,
                rng=rng,
                replicates=replicates,
                confidence=confidence,
                rank1_misses=outcomes.rank1_misses[mated_labels == label],
            )
        )
        if misses.size:
            replicate_means["fnir"][label] = _bootstrap_means(misses, rng, replicates)
        if false_hits.size:
            replicate_means["fpir"][label] = _bootstrap_means(false_hits, rng, replicates)
    ratios = [
        summary
        for metric in ("fnir", "fpir")
        if (summary := _ratio(attribute, metric, rates, replicate_means[metric], ratio_trigger))
    ]
    return rates, ratios


def _ratio(
    attribute: str,
    metric: str,
    rates: list[GroupRates],
    samples: dict[str, npt.NDArray[np.float64]],
    trigger: float,
) -> RatioSummary | None:
    """Max/min of a rate across groups; the CI comes from per-replicate max/min."""
    point = {r.group: getattr(r, metric) for r in rates if getattr(r, metric) is not None}
    if len(point) < 2:
        return None
    highest = max(point, key=lambda g: (point[g], g))
    lowest = min(point, key=lambda g: (point[g], g))
    ratio = point[highest] / point[lowest] if point[lowest] > 0 else None
    stacked = np.vstack([samples[g] for g in point])
    with np.errstate(divide="ignore", invalid="ignore"):
        per_replicate = stacked.max(axis=0) / stacked.min(axis=0)
    ci = _interval(per_replicate)
    # A group with no errors at all makes the ratio unbounded: material when the worst
    # group's own interval clearly excludes zero.
    worst = next(r for r in rates if r.group == highest)
    worst_ci = getattr(worst, f"{metric}_ci")
    unbounded = ratio is None and worst_ci is not None and worst_ci[0] > 0
    return RatioSummary(
        attribute=attribute,
        metric=metric,
        highest_group=highest,
        lowest_group=lowest,
        ratio=ratio,
        ratio_ci=ci,
        material=bool(unbounded or (ci is not None and ci[0] > trigger)),
    )
