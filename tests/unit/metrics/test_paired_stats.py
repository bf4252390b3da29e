"""Paired statistics side by side with scipy and statsmodels: the same p-values, the same corrections.

Exact p-values (McNemar's, an enumerated sign-flip test) must agree to
rounding; Monte Carlo ones within a few standard errors of the draws.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests

from vlmbench.metrics import paired
from vlmbench.metrics.paired import holm, is_binary, mcnemar_exact, paired_difference, sign_flip_p_value


def _mean_difference(x: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
    return np.mean(x - y, axis=axis)


def scipy_paired_permutation(a: np.ndarray, b: np.ndarray, resamples: float, seed: int = 0) -> float:
    result = stats.permutation_test((a, b), _mean_difference, permutation_type="samples", vectorized=True,
                                    n_resamples=resamples, alternative="two-sided", random_state=seed)
    return float(result.pvalue)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 400), st.integers(0, 400))
def test_mcnemar_is_scipys_binomial_test_and_statsmodels_mcnemar(only_a, only_b):
    p = mcnemar_exact(only_a, only_b)
    if only_a + only_b:
        assert p == pytest.approx(stats.binomtest(only_a, only_a + only_b, 0.5).pvalue, rel=1e-12)
    table = [[17, only_a], [only_b, 5]]  # the concordant cells do not enter the test
    assert p == pytest.approx(mcnemar(table, exact=True).pvalue, rel=1e-12)


@pytest.mark.parametrize(("only_a", "only_b"), [(2100, 2000), (5000, 5300), (40_000, 40_800), (9, 3000)])
def test_mcnemar_past_the_exact_sum_still_matches_scipy(only_a, only_b):
    assert mcnemar_exact(only_a, only_b) == pytest.approx(
        stats.binomtest(only_a, only_a + only_b, 0.5).pvalue, rel=1e-8, abs=1e-300)


def test_a_right_or_wrong_metric_gets_mcnemar_on_its_discordant_pairs():
    rng = np.random.default_rng(3)
    a = (rng.random(500) < 0.62).astype(float)
    b = np.where(rng.random(500) < 0.8, a, 1 - a)  # mostly the same answers, as two real models give
    found = paired_difference(a, b)
    assert found.test == "mcnemar"
    assert (found.only_a, found.only_b) == (int(((a == 1) & (b == 0)).sum()), int(((a == 0) & (b == 1)).sum()))
    table = [[((a == 1) & (b == 1)).sum(), found.only_a], [found.only_b, ((a == 0) & (b == 0)).sum()]]
    assert found.p_value == pytest.approx(mcnemar(table, exact=True).pvalue, rel=1e-12)
    assert found.difference == pytest.approx(a.mean() - b.mean())


# Multiples of 1/64: sums are exact in floating point, so a tie is a tie on both sides (with decimals, two
# implementations may each call a rounding-level difference a tie or not, and both be right).
sixty_fourths = st.integers(-64, 64).map(lambda k: k / 64)


@settings(max_examples=80, deadline=None)
@given(st.lists(sixty_fourths, min_size=2, max_size=14), sixty_fourths)
def test_an_enumerated_sign_flip_test_is_scipys_exact_paired_permutation_test(values, shift):
    b = np.arange(len(values)) / 16  # any baseline: only a - b matters
    a = b + np.asarray(values) + shift
    ours = sign_flip_p_value(a - b)
    assert ours == pytest.approx(scipy_paired_permutation(a, b, np.inf), rel=1e-9, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 8), st.integers(0, 8), st.integers(0, 20))
def test_on_right_or_wrong_scores_mcnemar_is_the_exact_sign_flip_test(only_a, only_b, same):
    differences = np.array([1.0] * only_a + [-1.0] * only_b + [0.0] * same)
    assert mcnemar_exact(only_a, only_b) == pytest.approx(sign_flip_p_value(differences), rel=1e-12)


@pytest.mark.parametrize(("n", "effect", "seed"), [(60, 0.0, 1), (120, 0.15, 2), (300, 0.1, 3), (200, 0.5, 4)])
def test_a_monte_carlo_sign_flip_test_agrees_with_scipys_within_its_draws(n, effect, seed):
    rng = np.random.default_rng(seed)
    b = rng.random(n)
    a = np.clip(b + rng.normal(effect, 0.6, n), 0, 1)  # scores bounded like a metric's
    ours = sign_flip_p_value(a - b, resamples=paired.PERMUTATION_RESAMPLES, seed=seed)
    theirs = scipy_paired_permutation(a, b, 49_999, seed)
    # Two Monte Carlo estimates of one p: each within ~2 standard errors of its own draws.
    spread = np.sqrt(max(theirs, 1e-4) * (1 - theirs) / paired.PERMUTATION_RESAMPLES)
    assert abs(ours - theirs) <= 5 * spread + 2 / paired.PERMUTATION_RESAMPLES


def test_many_differences_flip_in_blocks_and_keep_scipys_answer(monkeypatch):
    monkeypatch.setattr(paired, "MAX_FLIP_UNITS", 200)  # a 2,000-sample job takes the large-job path
    rng = np.random.default_rng(9)
    b = rng.random(2000)
    a = b + rng.normal(0.02, 0.5, 2000)
    ours = sign_flip_p_value(a - b)
    theirs = scipy_paired_permutation(a, b, 4999, 9)
    assert 0.005 < theirs < 0.5  # a case where the figure is not pinned at an end
    assert abs(ours - theirs) <= 5 * np.sqrt(theirs * (1 - theirs) / 4999) + 0.01


def test_the_p_value_is_seeded_and_never_zero():
    d = np.full(500, 0.2)
    assert sign_flip_p_value(d) == sign_flip_p_value(d) == 1 / (paired.PERMUTATION_RESAMPLES + 1)
    assert sign_flip_p_value(np.zeros(40)) == 1.0


def test_the_interval_is_scipys_percentile_bootstrap_of_the_mean_difference():
    rng = np.random.default_rng(5)
    b = rng.random(400)
    a = np.clip(b + rng.normal(0.05, 0.3, 400), 0, 1)
    found = paired_difference(a, b)
    theirs = stats.bootstrap((a, b), _mean_difference, paired=True, vectorized=True, n_resamples=20_000,
                             method="percentile", random_state=0).confidence_interval
    standard_error = np.std(a - b) / np.sqrt(len(a))
    assert found.ci_low == pytest.approx(theirs.low, abs=0.15 * standard_error)
    assert found.ci_high == pytest.approx(theirs.high, abs=0.15 * standard_error)
    assert found.ci_low < found.difference < found.ci_high
    assert found.test == "sign-flip"


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=30))
def test_holm_is_statsmodels_holm(p_values):
    assert holm(p_values) == pytest.approx(multipletests(p_values, method="holm")[1], rel=1e-12, abs=1e-15)


def test_the_test_follows_the_values_and_nothing_to_pair_has_no_p_value():
    assert is_binary(np.array([0.0, 1.0, 1.0]), np.array([1.0, 0.0]))
    assert not is_binary(np.array([0.0, 0.5]))
    empty = paired_difference(np.array([]), np.array([]))
    assert empty.n == 0 and empty.test == "none" and np.isnan(empty.p_value)
    with pytest.raises(ValueError, match="one length"):
        paired_difference(np.zeros(3), np.zeros(4))
