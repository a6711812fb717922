"""Clopper-Pearson bounds (the FPIR bound of FR-03's gate) against closed forms, published values, the
defining binomial equation and, where installed, scipy."""

from __future__ import annotations

import math

import pytest

from matching.binomial import clopper_pearson_interval, clopper_pearson_upper


def _binomial_cdf(successes: int, trials: int, rate: float) -> float:
    return sum(
        math.comb(trials, j) * rate**j * (1 - rate) ** (trials - j) for j in range(successes + 1)
    )


def test_no_hit_in_300_searches_bounds_fpir_just_under_one_percent() -> None:
    upper = clopper_pearson_upper(successes=0, trials=300)
    assert upper == pytest.approx(1 - 0.05 ** (1 / 300), rel=1e-12)
    assert upper == pytest.approx(0.009936, abs=1e-6)
    assert upper < 0.01


def test_299_searches_are_the_fewest_that_can_show_fpir_under_one_percent() -> None:
    """The rule of three (3 / n) says 300; the exact bound, 1 - 0.05 ** (1 / n), crosses 1 % at 299."""
    assert clopper_pearson_upper(successes=0, trials=298) == pytest.approx(0.0100024, abs=1e-7)
    assert clopper_pearson_upper(successes=0, trials=299) == pytest.approx(0.0099691, abs=1e-7)


def test_the_bound_is_never_zero_though_a_bootstrap_of_no_hits_would_be() -> None:
    assert clopper_pearson_upper(successes=0, trials=40) == pytest.approx(0.0722, abs=1e-4)
    assert clopper_pearson_upper(successes=0, trials=40_000) > 0


@pytest.mark.parametrize(
    ("successes", "trials", "expected"),
    [
        # Commonly tabulated two-sided 95 % intervals, to 6 decimals (they agree with
        # scipy.stats.beta; 0 of 10 and 10 of 10 are the closed forms 1 - 0.025 ** 0.1 and its mirror).
        (5, 10, (0.187086, 0.812914)),
        (1, 10, (0.002529, 0.445016)),
        (0, 10, (0.0, 0.308497)),
        (10, 10, (0.691503, 1.0)),
    ],
)
def test_two_sided_intervals_match_published_values(
    successes: int, trials: int, expected: tuple[float, float]
) -> None:
    lower, upper = clopper_pearson_interval(successes=successes, trials=trials)
    assert lower == pytest.approx(expected[0], abs=1e-6)
    assert upper == pytest.approx(expected[1], abs=1e-6)


@pytest.mark.parametrize(
    ("successes", "trials", "confidence"),
    [(1, 100, 0.95), (3, 300, 0.95), (7, 50, 0.9), (20, 40, 0.99), (149, 150, 0.95)],
)
def test_the_upper_bound_solves_the_binomial_equation(
    successes: int, trials: int, confidence: float
) -> None:
    """By definition, at the upper bound seeing this few hits has probability 1 - confidence."""
    upper = clopper_pearson_upper(successes=successes, trials=trials, confidence=confidence)
    assert _binomial_cdf(successes, trials, upper) == pytest.approx(1 - confidence, rel=1e-9)


def test_one_hit_in_100_has_the_textbook_bound() -> None:
    # 1 - (1 - p)^100 - 100 p (1 - p)^99 = 0.95 at p = 0.04656 (one-sided 95 %)
    assert clopper_pearson_upper(successes=1, trials=100) == pytest.approx(0.046560, abs=1e-6)


def test_all_hits_bound_is_one() -> None:
    assert clopper_pearson_upper(successes=300, trials=300) == 1.0
    assert clopper_pearson_interval(successes=300, trials=300)[1] == 1.0


def test_more_searches_with_the_same_rate_tighten_the_bound() -> None:
    bounds = [clopper_pearson_upper(successes=n // 100, trials=n) for n in (100, 1000, 10_000)]
    assert bounds[0] > bounds[1] > bounds[2] > 0.01


@pytest.mark.parametrize(
    ("successes", "trials"), [(0, 0), (-1, 10), (11, 10)], ids=["no-trials", "negative", "too-many"]
)
def test_impossible_counts_are_refused(successes: int, trials: int) -> None:
    with pytest.raises(ValueError, match="successes"):
        clopper_pearson_upper(successes=successes, trials=trials)


def test_confidence_outside_zero_and_one_is_refused() -> None:
    with pytest.raises(ValueError, match="confidence"):
        clopper_pearson_interval(successes=1, trials=10, confidence=1.0)


def test_agrees_with_scipy_from_tiny_to_county_sized_samples() -> None:
    beta = pytest.importorskip("scipy.stats").beta
    for trials in (1, 7, 30, 299, 1000, 100_000, 2_500_000):
        for successes in sorted(
            {0, 1, 2, trials // 100, trials // 2, trials - 1, trials} & set(range(trials + 1))
        ):
            for confidence in (0.9, 0.95, 0.99):
                alpha = 1 - confidence
                upper = clopper_pearson_upper(
                    successes=successes, trials=trials, confidence=confidence
                )
                lower2, upper2 = clopper_pearson_interval(
                    successes=successes, trials=trials, confidence=confidence
                )
                expected = (
                    1.0
                    if successes == trials
                    else beta.ppf(confidence, successes + 1, trials - successes)
                )
                expected_lower = (
                    0.0
                    if successes == 0
                    else beta.ppf(alpha / 2, successes, trials - successes + 1)
                )
                expected_upper = (
                    1.0
                    if successes == trials
                    else beta.ppf(1 - alpha / 2, successes + 1, trials - successes)
                )
                case = (successes, trials, confidence)
                assert upper == pytest.approx(expected, rel=1e-7), case
                assert lower2 == pytest.approx(expected_lower, rel=1e-7), case
                assert upper2 == pytest.approx(expected_upper, rel=1e-7), case
