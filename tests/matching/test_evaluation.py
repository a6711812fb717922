"""FNIR/FPIR per group: synthetic subjects whose outcome is known by construction."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from matching.binomial import clopper_pearson_upper
from matching.evaluation import evaluation_run, fpir_at_distance, threshold_calibrate
from tests.matching.synthetic import county_population

DIM = 128


def _population(rng: np.random.Generator):
    """Group A: repeat photos 0.1 apart (always found). Group B: 1.5 apart (always missed).

    Non-enrolled subjects: group A strangers are far from everyone; group B strangers are a
    near copy of an enrolled face (a false positive).
    """
    descriptors, subjects, enrolled, race, sex = [], [], [], [], []

    def add(vec: np.ndarray, subject: str, is_enrolled: bool, group: str, gender: str) -> None:
        descriptors.append(vec)
        subjects.append(subject)
        enrolled.append(is_enrolled)
        race.append(group)
        sex.append(gender)

    anchors = []
    for person in range(40):
        group = "A" if person % 2 == 0 else "B"
        centre = rng.standard_normal(DIM) * 0.5
        anchors.append(centre)
        step = 0.1 if group == "A" else 1.5
        direction = rng.standard_normal(DIM)
        direction /= np.linalg.norm(direction)
        add(centre, f"s{person}", True, group, "F" if person % 4 < 2 else "M")
        add(centre + step * direction, f"s{person}", True, group, "F" if person % 4 < 2 else "M")
    for stranger in range(30):
        group = "A" if stranger % 2 == 0 else "B"
        # group A strangers are nowhere near the gallery; group B ones are 0.57 from a face
        far = rng.standard_normal(DIM) * 0.5 + 50.0
        vec = far if group == "A" else anchors[stranger] + 0.05
        add(vec, f"x{stranger}", False, group, "F")
    return (
        np.asarray(descriptors, dtype=np.float32),
        subjects,
        enrolled,
        {"race": race, "sex": sex},
    )


def test_rates_per_group_match_the_construction() -> None:
    descriptors, subjects, enrolled, groups = _population(np.random.default_rng(1))
    report = evaluation_run(
        descriptors=descriptors,
        subject_ids=subjects,
        enrolled=enrolled,
        groups=groups,
        list_size=5,
        threshold=0.6,
        replicates=200,
    )
    by_group = {(r.attribute, r.group): r for r in report.groups}
    assert by_group["race", "A"].fnir == 0.0
    assert by_group["race", "B"].fnir == 1.0
    assert by_group["race", "A"].rank1_miss_rate == 0.0
    assert by_group["race", "A"].fpir == 0.0
    assert by_group["race", "B"].fpir == 1.0
    assert report.overall.mated_searches == 40
    assert report.overall.nonmated_searches == 30
    assert report.overall.fnir == pytest.approx(0.5)
    assert report.overall.fpir == pytest.approx(0.5)
    assert report.gallery_size == 40  # one earlier photo per enrolled subject
    assert report.overall.fnir_ci is not None
    lo, hi = report.overall.fnir_ci
    assert lo < 0.5 < hi
    fnir_race = next(r for r in report.ratios if r.attribute == "race" and r.metric == "fnir")
    assert fnir_race.highest_group == "B"
    assert fnir_race.ratio is None  # group A never misses: the ratio is unbounded
    assert fnir_race.material


def strict_rank1(report: object) -> float:
    value = report.overall.rank1_miss_rate  # type: ignore[attr-defined]
    assert value is not None
    return float(value)


def test_threshold_and_list_size_change_the_outcome() -> None:
    descriptors, subjects, enrolled, groups = _population(np.random.default_rng(2))
    lenient = evaluation_run(
        descriptors=descriptors,
        subject_ids=subjects,
        enrolled=enrolled,
        groups=groups,
        list_size=5,
        threshold=2.0,
        replicates=50,
    )
    assert lenient.overall.fnir == 0.0  # 1.5 apart is now under the threshold
    assert strict_rank1(lenient) <= 0.5
    strict = evaluation_run(
        descriptors=descriptors,
        subject_ids=subjects,
        enrolled=enrolled,
        groups=groups,
        list_size=5,
        threshold=0.05,
        replicates=50,
    )
    assert strict.overall.fnir == 1.0
    assert strict.overall.fpir == 0.0
    # the threshold does not change who comes first: investigation-mode misses stay the same
    assert strict_rank1(strict) == strict_rank1(lenient)


def test_similar_groups_are_not_flagged_material() -> None:
    rng = np.random.default_rng(3)
    people = 300
    centres = rng.standard_normal((people, DIM)) * 0.05
    photos = np.concatenate([centres, centres + rng.standard_normal((people, DIM)) * 0.03])
    subjects = [f"p{i}" for i in range(people)] * 2
    enrolled = [i % 5 != 0 for i in range(people)] * 2
    labels = [("A", "B", "C")[i % 3] for i in range(people)] * 2
    report = evaluation_run(
        descriptors=photos.astype(np.float32),
        subject_ids=subjects,
        enrolled=enrolled,
        groups={"age_band": labels},
        list_size=10,
        threshold=0.6,
        replicates=300,
    )
    assert report.overall.fnir is not None
    assert report.overall.fnir < 0.05
    for ratio in report.ratios:
        assert not ratio.material
    rows = report.rows()
    assert rows[0]["group"] == "overall"
    assert {r["group"] for r in rows[1:]} == {"A", "B", "C"}
    assert report.as_dict()["rows"] == rows


def test_fpir_at_distance_reads_the_nonmated_best_scores() -> None:
    best = [0.3, 0.5, 0.5, 0.9]
    assert fpir_at_distance(nonmated_best_distances=best, distance=0.5) == 0.75
    assert fpir_at_distance(nonmated_best_distances=best, distance=0.1) == 0.0
    assert fpir_at_distance(nonmated_best_distances=[], distance=0.1) is None


def test_no_false_hit_is_bounded_by_clopper_pearson_where_the_bootstrap_says_zero() -> None:
    """FR-03: 320 clean searches per group bound FPIR under 1 %; the bootstrap interval is [0, 0]
    and would say the same of 3."""
    population = county_population(
        np.random.default_rng(4), groups={"A": (60, 320), "B": (60, 320)}
    )
    report = evaluation_run(**population, threshold=0.6)
    assert report.overall.fpir == 0.0
    assert report.overall.fpir_ci == (0.0, 0.0)
    assert report.overall.fpir_upper == pytest.approx(1 - 0.05 ** (1 / 640))
    for group in report.groups:
        assert group.fpir_ci == (0.0, 0.0)
        assert group.fpir_upper == pytest.approx(1 - 0.05 ** (1 / 320))
    as_dict = report.as_dict()
    assert as_dict["confidence"] == 0.95
    assert [row["fpir_upper"] for row in as_dict["rows"]] == [
        r.fpir_upper for r in (report.overall, *report.groups)
    ]
    stricter = evaluation_run(**population, threshold=0.6, confidence=0.99)
    assert stricter.overall.fpir_upper == pytest.approx(1 - 0.01 ** (1 / 640))


def test_a_group_without_non_mated_searches_has_no_fpir_bound() -> None:
    population = county_population(np.random.default_rng(5), groups={"A": (10, 0), "B": (10, 12)})
    report = evaluation_run(**population, threshold=0.6)
    by_group = {r.group: r for r in report.groups}
    assert by_group["A"].fpir_upper is None
    assert by_group["B"].fpir_upper == pytest.approx(1 - 0.05 ** (1 / 12))


def _most_hits_within(target: float, searches: int) -> int:
    """Brute force: the most false hits whose 95 % bound stays within the target."""
    return max(
        k
        for k in range(searches + 1)
        if clopper_pearson_upper(successes=k, trials=searches) <= target
    )


def test_calibration_picks_the_largest_threshold_the_fpir_bound_allows() -> None:
    distances = np.random.default_rng(6).uniform(0.2, 2.0, 1000)
    calibration = threshold_calibrate(nonmated_best_distances=distances.tolist(), target_fpir=0.01)
    allowed = _most_hits_within(0.01, 1000)
    assert allowed == 4  # 4 of 1000 bound FPIR at 0.91 %; 5 of 1000 at 1.05 %
    ordered = np.sort(distances)
    assert calibration.threshold == ordered[allowed]
    assert calibration.false_hits == allowed
    assert calibration.fpir == allowed / 1000
    assert calibration.fpir_upper is not None
    assert calibration.fpir_upper <= 0.01
    # Any larger threshold lets one more search through and the bound over the target.
    assert clopper_pearson_upper(successes=allowed + 1, trials=1000) > 0.01
    assert calibration.as_dict()["threshold"] == calibration.threshold


def test_calibration_with_tied_distances_does_not_count_the_tie_as_a_hit() -> None:
    distances = [0.3] * 10 + [0.5] * 990  # the first 10 searches found a stranger equally close
    calibration = threshold_calibrate(nonmated_best_distances=distances, target_fpir=0.01)
    assert calibration.threshold == 0.3
    assert calibration.false_hits == 0
    assert calibration.fpir_upper == pytest.approx(1 - 0.05 ** (1 / 1000))


def test_too_few_non_mated_searches_cannot_calibrate_any_threshold() -> None:
    calibration = threshold_calibrate(nonmated_best_distances=[5.0] * 298, target_fpir=0.01)
    assert calibration.threshold is None
    assert calibration.min_nonmated_searches == 299
    assert calibration.fpir_upper is None
    enough = threshold_calibrate(nonmated_best_distances=[5.0] * 299, target_fpir=0.01)
    assert enough.threshold == 5.0
    assert threshold_calibrate(nonmated_best_distances=[], target_fpir=0.01).threshold is None


def test_the_evaluation_reads_fnir_at_the_calibrated_threshold() -> None:
    """Strangers between 0.2 and 2.0 from a gallery face; mates 0.1 apart are found at that threshold,
    mates 0.5 apart are not, though the usual 0.6 would have found them."""
    rng = np.random.default_rng(7)
    distances = rng.uniform(0.2, 2.0, 640)
    population = county_population(
        rng, groups={"A": (60, 320), "B": (60, 320)}, stranger_distance=distances
    )
    report = evaluation_run(**population, target_fpir=0.01)
    assert report.calibration is not None
    expected = threshold_calibrate(nonmated_best_distances=distances.tolist(), target_fpir=0.01)
    assert report.threshold == pytest.approx(expected.threshold)
    assert report.threshold == pytest.approx(np.sort(distances)[_most_hits_within(0.01, 640)])
    assert report.overall.fpir_upper is not None
    assert report.overall.fpir_upper == pytest.approx(report.calibration.fpir_upper)
    assert report.overall.fpir_upper <= 0.01
    assert report.overall.fnir == 0.0
    assert report.as_dict()["calibration"] == report.calibration.as_dict()
    assert report.as_dict()["threshold"] == report.threshold

    far_mates = population | {"descriptors": population["descriptors"].copy()}
    enrolled_photos = np.flatnonzero(population["enrolled"])
    for probe in enrolled_photos[1::2]:  # each person's second photo: move it 0.5 from the first
        first = far_mates["descriptors"][probe - 1]
        step = far_mates["descriptors"][probe] - first
        far_mates["descriptors"][probe] = first + 0.5 * step / np.linalg.norm(step)
    assert evaluation_run(**far_mates, threshold=0.6).overall.fnir == 0.0
    assert evaluation_run(**far_mates, target_fpir=0.01).overall.fnir == 1.0


def test_a_calibration_that_finds_no_threshold_evaluates_at_zero() -> None:
    population = county_population(np.random.default_rng(8), groups={"A": (20, 40)})
    report = evaluation_run(**population, target_fpir=0.01)
    assert report.calibration is not None
    assert report.calibration.threshold is None
    assert report.threshold == 0.0
    assert report.overall.fnir == 1.0
    assert report.overall.fpir == 0.0


@pytest.mark.parametrize(
    "modes", [{}, {"threshold": 0.6, "target_fpir": 0.01}], ids=["neither", "both"]
)
def test_a_threshold_or_a_target_is_needed_not_both(modes: dict[str, Any]) -> None:
    population = county_population(np.random.default_rng(9), groups={"A": (5, 5)})
    with pytest.raises(ValueError, match="either a threshold or a target_fpir"):
        evaluation_run(**population, **modes)


def test_inputs_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="one entry per photo"):
        evaluation_run(
            descriptors=np.zeros((3, DIM), np.float32),
            subject_ids=["a", "b"],
            enrolled=[True, True, True],
            groups={},
            list_size=5,
            threshold=0.6,
        )
