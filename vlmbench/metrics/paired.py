"""Two models on the same samples: the paired difference, its interval and its p-value.

Pairing removes what the samples share (an easy sample is easy for both
models), so a difference far smaller than either model's own interval can
still be told from noise. Three pieces, each checked against scipy or
statsmodels in the tests:

- the interval: a percentile bootstrap of the mean of per-sample
  differences (the same resampler as the run's own intervals, so the same
  seed gives the same draws);
- the p-value: an exact McNemar test (a binomial test on the samples one
  model got right and the other wrong) when every score is 0 or 1
  (accuracy, exact match), else a sign-flip permutation test of the mean
  difference (exact over every sign pattern when there are few non-zero
  differences, seeded Monte Carlo otherwise);
- Holm's step-down correction when many pairs are tested at once.
"""

from __future__ import annotations

from fractions import Fraction
from math import comb
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from vlmbench.metrics.aggregate import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, CI_LEVEL, bootstrap_ci

PERMUTATION_RESAMPLES = 9999
#: Up to this many non-zero differences, every sign pattern is tried (2**16 = 65,536 patterns).
EXACT_SIGN_FLIPS = 16
#: Beyond this many non-zero differences, the signs of random blocks of them are flipped together:
#: still a valid test (each block's sum is symmetric about 0 under the null) at a cost that stays
#: resamples × blocks however large the job (the bootstrap's blocks, aggregate.MAX_BOOTSTRAP_BLOCKS, alike).
MAX_FLIP_UNITS = 2000
#: Below this many discordant pairs the binomial tail is summed in exact integers.
EXACT_BINOMIAL = 2000
_CHUNK_ELEMENTS = 4_000_000

PairedTestName = Literal["mcnemar", "sign-flip", "none"]


class PairedDifference(BaseModel):
    """``a`` minus ``b`` over the samples both scored (`vlmbench compare --json` prints it, with the pair's names)."""

    model_config = ConfigDict(frozen=True)

    n: int
    mean_a: float
    mean_b: float
    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    test: PairedTestName
    # McNemar's discordant pairs: samples only a got right, and only b.
    only_a: int | None = None
    only_b: int | None = None


def is_binary(*columns: np.ndarray) -> bool:
    """Whether every value is 0 or 1 (a right/wrong metric), which calls for McNemar's test."""
    return all(bool(np.isin(column, (0.0, 1.0)).all()) for column in columns)


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value: the discordant pairs split as a fair coin would split them.

    Below :data:`EXACT_BINOMIAL` discordant pairs the tail is an exact integer
    sum; above it, a sum in log space (relative error around 1e-12).
    """
    n, low = only_a + only_b, min(only_a, only_b)
    if n == 0 or 2 * low == n:
        return 1.0
    if n <= EXACT_BINOMIAL:
        tail = Fraction(sum(comb(n, k) for k in range(low + 1)), 2**n)
        return float(min(Fraction(1), 2 * tail))
    k = np.arange(low, dtype=float)
    # log C(n, k) for k = 0..low by C(n, k + 1) = C(n, k) (n - k) / (k + 1), less n log 2.
    log_terms = np.concatenate([[0.0], np.cumsum(np.log(n - k) - np.log(k + 1))]) - n * np.log(2.0)
    top = log_terms.max()
    return float(min(1.0, 2.0 * np.exp(top) * np.exp(log_terms - top).sum()))


def sign_flip_p_value(differences: np.ndarray, resamples: int = PERMUTATION_RESAMPLES,
                      seed: int = BOOTSTRAP_SEED) -> float:
    """Two-sided p-value of a mean difference of 0 under random swaps of each pair's two scores.

    Swapping a pair flips the sign of its difference. With at most
    :data:`EXACT_SIGN_FLIPS` non-zero differences every pattern is enumerated
    (an exact p-value); otherwise ``resamples`` seeded patterns are drawn and
    the observed one counts among them ((hits + 1) / (resamples + 1)), so the
    p-value is never 0.
    """
    d = np.asarray(differences, dtype=float)
    d = d[d != 0.0]
    if not len(d):
        return 1.0
    observed = abs(d.sum())
    # Sums that differ from the observed one by rounding alone count as equal to it.
    tolerance = 1e-9 * max(observed, np.abs(d).max())
    if len(d) <= EXACT_SIGN_FLIPS:
        patterns = (np.arange(2 ** len(d))[:, None] >> np.arange(len(d))) & 1
        sums = (1 - 2 * patterns) @ d
        return float(np.mean(np.abs(sums) >= observed - tolerance))
    rng = np.random.default_rng(seed)
    if len(d) > MAX_FLIP_UNITS:
        block = rng.permutation(len(d)) % MAX_FLIP_UNITS
        d = np.bincount(block, weights=d, minlength=MAX_FLIP_UNITS)
    total, hits = d.sum(), 0
    chunk = max(1, _CHUNK_ELEMENTS // len(d))
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        kept = rng.integers(0, 2, size=(size, len(d)), dtype=np.int8)
        sums = 2.0 * (kept @ d) - total  # kept signs +, the others flipped
        hits += int(np.count_nonzero(np.abs(sums) >= observed - tolerance))
    return (hits + 1) / (resamples + 1)


def paired_difference(a: np.ndarray, b: np.ndarray, *, binary: bool | None = None,
                      resamples: int = BOOTSTRAP_RESAMPLES, permutations: int = PERMUTATION_RESAMPLES,
                      level: float = CI_LEVEL, seed: int = BOOTSTRAP_SEED) -> PairedDifference:
    """The mean of ``a - b`` (aligned per sample, NaN-free), its bootstrap interval and its p-value.

    ``binary`` picks McNemar's test; None decides from the values.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired scores must be two columns of one length, got {a.shape} and {b.shape}")
    n = len(a)
    if n == 0:
        nan = float("nan")
        return PairedDifference(n=0, mean_a=nan, mean_b=nan, difference=nan, ci_low=nan, ci_high=nan,
                                p_value=nan, test="none")
    diff = a - b
    low, high = bootstrap_ci(diff, resamples=resamples, level=level, seed=seed)  # NaN below 2 samples
    common = {"n": n, "mean_a": float(a.mean()), "mean_b": float(b.mean()), "difference": float(diff.mean()),
              "ci_low": float(low[0]), "ci_high": float(high[0])}
    if binary if binary is not None else is_binary(a, b):
        only_a, only_b = int(np.count_nonzero(diff > 0)), int(np.count_nonzero(diff < 0))
        return PairedDifference(**common, p_value=mcnemar_exact(only_a, only_b), test="mcnemar",
                                only_a=only_a, only_b=only_b)
    return PairedDifference(**common, p_value=sign_flip_p_value(diff, permutations, seed), test="sign-flip")


def holm(p_values: np.ndarray | list[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error control), in the input's order."""
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    stepped = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(stepped)
    return adjusted
