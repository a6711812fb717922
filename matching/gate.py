"""The FR-03 gate: whether an evaluation report allows production matching.

Why a separate, pure function: the gateway used to decide ``passed`` inline from FNIR and the group
ratios alone, so a demo evaluation whose every non-mated search returned a stranger (FPIR 1.0) passed.
A false positive puts an innocent person on a candidate list, which is the harm FR-03 and NIST IR
8280 are about, so the gate bounds FPIR as well, and bounds it with the exact Clopper-Pearson upper
bound (``fpir_upper``), not the point rate: zero false hits in 40 searches does not show FPIR under
1 %, and 299 non-mated searches per group are the fewest that can. One call with plain arguments
returns a frozen result the gateway stores with the report, so what passed, and why, can be audited.

Rules, for the overall row and every group row of every attribute:

* **not evaluated** when it has fewer than ``min_mated_per_group`` mated or ``min_nonmated_per_group``
  non-mated searches; a group the evaluation could not measure fails, it does not pass silently;
* **FNIR** at most ``max_fnir`` (rule FR-03's default, Virginia's 98 % true positives in every group),
  checked where there are enough mated searches;
* **FPIR** upper bound at most ``max_fpir``, checked where there are enough non-mated searches;
* no **material** max/min ratio between groups (the report's ``ratio_trigger``, mitigation plan
  under RCW 43.386.050);
* a threshold that was to be calibrated (``evaluation_run(target_fpir=...)``) must have been found.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from matching.evaluation import EvaluationReport, GroupRates, RatioSummary

__all__ = ["GateFailure", "GateFailureCode", "GateResult", "evaluation_gate"]


class GateFailureCode(StrEnum):
    """Why an evaluation did not pass (stable values; stored reports carry them)."""

    GROUP_NOT_EVALUATED = "group_not_evaluated"
    FNIR_OVER_MAX = "fnir_over_max"
    FPIR_OVER_MAX = "fpir_over_max"
    RATIO_MATERIAL = "ratio_material"
    THRESHOLD_NOT_CALIBRATED = "threshold_not_calibrated"


@dataclass(frozen=True)
class GateFailure:
    """One reason the gate refused: which rule, for which attribute and group, with the figures."""

    code: GateFailureCode
    attribute: str
    group: str
    detail: str


@dataclass(frozen=True)
class GateResult:
    """The gate's decision and the limits it applied (stored with the report)."""

    passed: bool
    failures: tuple[GateFailure, ...]
    groups_not_evaluated: tuple[tuple[str, str], ...]  # (attribute, group), "overall" included
    max_fpir: float
    max_fnir: float
    min_mated_per_group: int
    min_nonmated_per_group: int
    confidence: float  # of the FPIR bound, as in the report

    def as_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "failures": [
                {
                    "code": str(f.code),
                    "attribute": f.attribute,
                    "group": f.group,
                    "detail": f.detail,
                }
                for f in self.failures
            ],
            "groups_not_evaluated": [list(pair) for pair in self.groups_not_evaluated],
            "max_fpir": self.max_fpir,
            "max_fnir": self.max_fnir,
            "min_mated_per_group": self.min_mated_per_group,
            "min_nonmated_per_group": self.min_nonmated_per_group,
            "confidence": self.confidence,
        }


def evaluation_gate(
    *,
    report: EvaluationReport,
    max_fpir: float = 0.01,
    max_fnir: float = 0.02,
    min_mated_per_group: int = 5,
    min_nonmated_per_group: int = 300,
) -> GateResult:
    """Decide whether ``report`` passes FR-03 (see the module docstring for the rules).

    ``min_nonmated_per_group`` defaults to the rule of three's 300: with fewer, even zero false hits
    cannot bound FPIR under 1 % at 95 %. ``min_mated_per_group`` defaults to the 5 below which the
    gateway has never trusted an FNIR; such a group now fails as not evaluated instead of passing.
    """
    if min_mated_per_group < 1 or min_nonmated_per_group < 1:
        raise ValueError(
            "a group needs at least one mated and one non-mated search to be evaluated"
        )
    if not (0.0 < max_fpir < 1.0 and 0.0 <= max_fnir <= 1.0):
        raise ValueError(
            f"max_fpir must be in (0, 1) and max_fnir in [0, 1], not {max_fpir} and {max_fnir}"
        )
    failures = _calibration_failures(report)
    not_evaluated: list[tuple[str, str]] = []
    for rates in (report.overall, *report.groups):
        enough_mated = rates.mated_searches >= min_mated_per_group
        enough_nonmated = rates.nonmated_searches >= min_nonmated_per_group
        if not (enough_mated and enough_nonmated):
            not_evaluated.append((rates.attribute, rates.group))
            failures.append(
                _failure(
                    GateFailureCode.GROUP_NOT_EVALUATED,
                    rates,
                    f"{rates.mated_searches} mated searches (at least {min_mated_per_group} "
                    f"needed) and {rates.nonmated_searches} non-mated (at least "
                    f"{min_nonmated_per_group} needed)",
                )
            )
        if enough_mated:
            failures.extend(_fnir_failures(rates, max_fnir=max_fnir))
        if enough_nonmated:
            failures.extend(_fpir_failures(rates, max_fpir=max_fpir, confidence=report.confidence))
    failures.extend(
        _ratio_failure(ratio, report.ratio_trigger) for ratio in report.ratios if ratio.material
    )
    return GateResult(
        passed=not failures,
        failures=tuple(failures),
        groups_not_evaluated=tuple(not_evaluated),
        max_fpir=max_fpir,
        max_fnir=max_fnir,
        min_mated_per_group=min_mated_per_group,
        min_nonmated_per_group=min_nonmated_per_group,
        confidence=report.confidence,
    )


def _calibration_failures(report: EvaluationReport) -> list[GateFailure]:
    calibration = report.calibration
    if calibration is None or calibration.threshold is not None:
        return []
    detail = (
        f"no threshold bounds FPIR at or under {calibration.target_fpir:g} with "
        f"{calibration.nonmated_searches} non-mated searches "
        f"(at least {calibration.min_nonmated_searches} needed)"
    )
    code = GateFailureCode.THRESHOLD_NOT_CALIBRATED
    return [GateFailure(code=code, attribute="overall", group="overall", detail=detail)]


def _fnir_failures(rates: GroupRates, *, max_fnir: float) -> list[GateFailure]:
    if rates.fnir is None or rates.fnir <= max_fnir:
        return []
    misses = round(rates.fnir * rates.mated_searches)
    detail = (
        f"FNIR {rates.fnir:.4f} ({misses} of {rates.mated_searches} mated searches missed) "
        f"over {max_fnir:g}"
    )
    return [_failure(GateFailureCode.FNIR_OVER_MAX, rates, detail)]


def _fpir_failures(rates: GroupRates, *, max_fpir: float, confidence: float) -> list[GateFailure]:
    if rates.fpir_upper is None or rates.fpir_upper <= max_fpir:
        return []
    hits = round((rates.fpir or 0.0) * rates.nonmated_searches)
    detail = (
        f"FPIR upper bound {rates.fpir_upper:.4f} (one-sided {confidence:.0%} Clopper-Pearson; "
        f"{hits} of {rates.nonmated_searches} non-mated searches found a stranger) "
        f"over {max_fpir:g}"
    )
    return [_failure(GateFailureCode.FPIR_OVER_MAX, rates, detail)]


def _failure(code: GateFailureCode, rates: GroupRates, detail: str) -> GateFailure:
    return GateFailure(code=code, attribute=rates.attribute, group=rates.group, detail=detail)


def _ratio_failure(ratio: RatioSummary, trigger: float) -> GateFailure:
    metric = ratio.metric.upper()
    if ratio.ratio is None:
        size = f"unbounded ({ratio.lowest_group} has none)"
    else:
        size = f"{ratio.ratio:.2f}"
        if ratio.ratio_ci is not None:
            size += f" (95 % CI {ratio.ratio_ci[0]:.2f}-{ratio.ratio_ci[1]:.2f})"
    return GateFailure(
        code=GateFailureCode.RATIO_MATERIAL,
        attribute=ratio.attribute,
        group=ratio.highest_group,
        detail=(
            f"{metric} of {ratio.highest_group} over {ratio.lowest_group}: max/min ratio {size}, "
            f"material at the trigger {trigger:g}"
        ),
    )
