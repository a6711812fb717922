"""The FR-03 gate on evaluations whose outcome is known by construction."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from matching.evaluation import EvaluationReport, evaluation_run
from matching.gate import GateFailureCode, GateResult, evaluation_gate
from matching.services import evaluation_gate as exported_gate
from tests.matching.synthetic import county_population

CLEAN = {"A": (60, 320), "B": (60, 320)}


def _old_inline_rule(report: EvaluationReport, max_fnir: float = 0.02) -> bool:
    """How the gateway decided ``passed`` before the gate (matching_evaluate): FNIR and ratios only."""
    fnir_ok = all(
        g.fnir is None or g.mated_searches < 5 or g.fnir <= max_fnir
        for g in (report.overall, *report.groups)
    )
    return bool(
        fnir_ok and report.overall.mated_searches and not any(r.material for r in report.ratios)
    )


def _codes(result: GateResult) -> set[tuple[str, str, str]]:
    return {(f.code, f.attribute, f.group) for f in result.failures}


def test_a_model_that_finds_a_stranger_for_everyone_is_refused() -> None:
    """FPIR 1.0 in every group: FNIR is perfect and the groups are equal, so the old rule passed it."""
    population = county_population(np.random.default_rng(10), groups=CLEAN, stranger_distance=0.3)
    report = evaluation_run(**population, threshold=0.6)
    assert report.overall.fpir == 1.0
    assert report.overall.fnir == 0.0
    assert _old_inline_rule(report)
    result = evaluation_gate(report=report)
    assert not result.passed
    assert _codes(result) == {
        (GateFailureCode.FPIR_OVER_MAX, "overall", "overall"),
        (GateFailureCode.FPIR_OVER_MAX, "race", "A"),
        (GateFailureCode.FPIR_OVER_MAX, "race", "B"),
    }
    assert result.groups_not_evaluated == ()
    overall = next(f for f in result.failures if f.group == "overall")
    assert "640 of 640" in overall.detail
    assert "1.0000" in overall.detail


def test_a_clean_large_sample_passes() -> None:
    population = county_population(np.random.default_rng(11), groups=CLEAN)
    report = evaluation_run(**population, threshold=0.6)
    result = evaluation_gate(report=report)
    assert result.passed, result.failures
    assert result.failures == ()
    assert result.groups_not_evaluated == ()
    assert exported_gate is evaluation_gate


def test_a_group_below_the_minimum_of_non_mated_searches_fails_as_not_evaluated() -> None:
    """Group C had no false hit in 100 searches: that cannot show FPIR under 1 % (its bound is 3 %), so
    C is not evaluated, and the gate does not pass it silently."""
    groups = {**CLEAN, "C": (30, 100)}
    report = evaluation_run(
        **county_population(np.random.default_rng(12), groups=groups), threshold=0.6
    )
    c = next(r for r in report.groups if r.group == "C")
    assert c.fpir == 0.0
    assert c.fpir_upper == pytest.approx(1 - 0.05 ** (1 / 100))
    result = evaluation_gate(report=report)
    assert not result.passed
    assert result.groups_not_evaluated == (("race", "C"),)
    assert _codes(result) == {(GateFailureCode.GROUP_NOT_EVALUATED, "race", "C")}
    assert "100 non-mated (at least 300 needed)" in result.failures[0].detail
    # With a minimum the county can meet for C, C is measured and passes on FNIR, but not on FPIR.
    relaxed = evaluation_gate(report=report, min_nonmated_per_group=100)
    assert _codes(relaxed) == {(GateFailureCode.FPIR_OVER_MAX, "race", "C")}


def test_a_group_below_the_minimum_of_mated_searches_fails_as_not_evaluated() -> None:
    report = evaluation_run(
        **county_population(np.random.default_rng(13), groups={**CLEAN, "D": (3, 320)}),
        threshold=0.6,
    )
    result = evaluation_gate(report=report)
    assert result.groups_not_evaluated == (("race", "D"),)
    assert _old_inline_rule(report)  # the old rule skipped a group with under 5 mated searches


def test_fnir_over_the_floor_and_a_material_ratio_fail_as_before() -> None:
    """Group B's repeat photos are 1.5 apart: never found. The old rule refused this too."""
    population = county_population(np.random.default_rng(14), groups=CLEAN, mate_step={"B": 1.5})
    report = evaluation_run(**population, threshold=0.6)
    assert not _old_inline_rule(report)
    result = evaluation_gate(report=report)
    assert _codes(result) == {
        (GateFailureCode.FNIR_OVER_MAX, "overall", "overall"),
        (GateFailureCode.FNIR_OVER_MAX, "race", "B"),
        (GateFailureCode.RATIO_MATERIAL, "race", "B"),
    }
    ratio = next(f for f in result.failures if f.code == GateFailureCode.RATIO_MATERIAL)
    assert ratio.detail.startswith("FNIR of B over A")


def test_a_threshold_that_could_not_be_calibrated_fails() -> None:
    report = evaluation_run(
        **county_population(np.random.default_rng(15), groups={"A": (20, 100)}), target_fpir=0.01
    )
    result = evaluation_gate(report=report)
    assert (GateFailureCode.THRESHOLD_NOT_CALIBRATED, "overall", "overall") in _codes(result)
    assert "at least 299 needed" in result.failures[0].detail


def test_a_threshold_calibrated_on_everyone_can_still_fail_one_group() -> None:
    """The two strangers closest to a gallery face are both in group B. Calibrated overall, 2 false hits
    in 640 searches are allowed (bound 0.98 %), but 2 in B's 320 bound B's FPIR at 1.95 %."""
    rng = np.random.default_rng(16)
    distances = rng.uniform(1.0, 2.0, 640)
    distances[[400, 500]] = 0.2  # strangers 320..639 are group B's
    population = county_population(rng, groups=CLEAN, stranger_distance=distances)
    report = evaluation_run(**population, target_fpir=0.01)
    assert report.threshold == pytest.approx(np.sort(distances)[2])
    assert report.overall.fpir_upper is not None
    assert report.overall.fpir_upper <= 0.01
    result = evaluation_gate(report=report)
    assert _codes(result) == {(GateFailureCode.FPIR_OVER_MAX, "race", "B")}
    assert "2 of 320" in result.failures[0].detail


def test_the_result_is_plain_values() -> None:
    report = evaluation_run(
        **county_population(np.random.default_rng(17), groups={"A": (10, 10)}), threshold=0.6
    )
    stored = json.loads(json.dumps(evaluation_gate(report=report).as_dict()))
    assert stored["passed"] is False
    assert stored["groups_not_evaluated"] == [["overall", "overall"], ["race", "A"]]
    assert stored["failures"][0]["code"] == "group_not_evaluated"
    assert stored["max_fpir"] == 0.01
    assert stored["confidence"] == 0.95


@pytest.mark.parametrize(
    "limits",
    [
        {"max_fpir": 0.0},
        {"max_fnir": 1.5},
        {"min_nonmated_per_group": 0},
        {"min_mated_per_group": 0},
    ],
)
def test_limits_that_make_no_sense_are_refused(limits: dict[str, Any]) -> None:
    report = evaluation_run(
        **county_population(np.random.default_rng(18), groups={"A": (5, 5)}), threshold=0.6
    )
    with pytest.raises(ValueError, match=r"max_fpir|at least one"):
        evaluation_gate(report=report, **limits)
