"""Exact (Clopper-Pearson) confidence bounds for a binomial proportion such as FPIR.

Why not the bootstrap the evaluation reports next to it: a percentile bootstrap of zero false hits is
[0, 0] whatever the sample size, so "no false positive in 40 searches" would look as certain as "none in
40 000". The Clopper-Pearson bound inverts the binomial test instead: the upper bound is the largest rate
still consistent, at the stated confidence, with seeing so few hits. It never falls below the rate that
makes zero hits in ``n`` searches a 5 % event (``1 - 0.05 ** (1 / n)``, the "rule of three" ≈ 3 / n), so
FR-03's FPIR cap can only be met with enough non-mated searches.

Pure ``math``: scipy is not a runtime dependency (only a transitive one of scikit-image, a dev
dependency). The beta quantile is found by bisection on the regularized incomplete beta function,
evaluated with its continued fraction (Numerical Recipes §6.4, modified Lentz); tests compare it with
``scipy.stats.beta`` where scipy is installed.
"""

from __future__ import annotations

import math

__all__ = ["clopper_pearson_interval", "clopper_pearson_upper"]

_TINY = 1e-300
_EPSILON = 1e-15
_MAX_TERMS = 100_000


def clopper_pearson_upper(*, successes: int, trials: int, confidence: float = 0.95) -> float:
    """One-sided upper bound: the largest rate at which ``successes`` or fewer in ``trials`` still has
    probability ``1 - confidence``.

    Zero successes gives ``1 - (1 - confidence) ** (1 / trials)`` exactly: 0.00997 for 299 trials at
    95 %, the fewest whose bound can be under 1 % (the rule of three, 3 / n, says 300).
    """
    alpha = _alpha(successes=successes, trials=trials, confidence=confidence)
    if successes == trials:
        return 1.0
    if successes == 0:
        return -math.expm1(math.log(alpha) / trials)
    return _beta_quantile(1.0 - alpha, successes + 1.0, float(trials - successes))


def clopper_pearson_interval(
    *, successes: int, trials: int, confidence: float = 0.95
) -> tuple[float, float]:
    """Two-sided interval, each tail holding ``(1 - confidence) / 2``."""
    half = _alpha(successes=successes, trials=trials, confidence=confidence) / 2.0
    if successes == 0:
        lower = 0.0
    elif successes == trials:
        lower = math.exp(math.log(half) / trials)
    else:
        lower = _beta_quantile(half, float(successes), float(trials - successes + 1))
    if successes == trials:
        upper = 1.0
    elif successes == 0:
        upper = -math.expm1(math.log(half) / trials)
    else:
        upper = _beta_quantile(1.0 - half, successes + 1.0, float(trials - successes))
    return (lower, upper)


def _alpha(*, successes: int, trials: int, confidence: float) -> float:
    if trials < 1 or not 0 <= successes <= trials:
        raise ValueError(
            f"need 0 <= successes <= trials and trials >= 1, not {successes} of {trials}"
        )
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    return 1.0 - confidence


def _beta_quantile(q: float, a: float, b: float) -> float:
    """The x in (0, 1) with I_x(a, b) = q, by bisection: I_x is increasing in x, and bisection cannot
    diverge where Newton steps would (bounds near 0 for rare events)."""
    low, high = 0.0, 1.0
    for _ in range(2000):  # float resolution is reached in well under 1100 halvings
        middle = (low + high) / 2.0
        if middle in (low, high):
            break
        if _incomplete_beta(a, b, middle) < q:
            low = middle
        else:
            high = middle
    return high


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    # The continued fraction converges fast only on this side of the mean; use the symmetry otherwise.
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _continued_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _continued_fraction(b, a, 1.0 - x) / b


def _continued_fraction(a: float, b: float, x: float) -> float:
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    result = d
    for m in range(1, _MAX_TERMS):
        for numerator in (
            m * (b - m) * x / ((a - 1.0 + 2 * m) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 1.0 + 2 * m)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _TINY else _TINY
            result *= d * c
        if abs(d * c - 1.0) < _EPSILON:
            return result
    raise ArithmeticError(f"incomplete beta did not converge for a={a}, b={b}, x={x}")
