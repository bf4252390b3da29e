"""Grouping, means and bootstrap confidence intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vlmbench.metrics import MetricError, aggregate_scores, bootstrap_ci, resolve_aggregator


def scores_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["s1", "s2", "s3", "s4", "s5"],
            "doc_class": ["invoice", "invoice", "receipt", None, "invoice"],
            "question_type": ["field", "full_text", "field", "field", "field"],
            "error": [False, True, False, False, False],
            "em": [1.0, 0.0, 1.0, 0.0, 1.0],
            "cer": [0.0, 1.0, 0.5, 0.25, 0.0],
        }
    )


@pytest.mark.parametrize(
    ("spelling", "name"),
    [
        ("general", "general"),
        ("overall", "general"),
        ("by_doc_type", "by_doc_type"),
        ("by_doc_class", "by_doc_type"),
        ("By-Doc-Class", "by_doc_type"),
        ("by_question_type", "by_question_type"),
        ("by_doc_question", "by_doc_question"),
        ("by_id", "by_id"),
        ("by_sample", "by_id"),
    ],
)
def test_aggregator_names(spelling, name):
    assert resolve_aggregator(spelling) == name


def test_unknown_aggregator_suggests():
    with pytest.raises(MetricError, match="did you mean by_doc_type"):
        resolve_aggregator("by_doc_typ")


def test_general_is_one_group_of_everything_and_failed_samples_are_not_answers():
    out = aggregate_scores(scores_frame(), ["em", "cer"], "general")
    assert list(out["group"]) == ["all", "all"]
    assert list(out["metric"]) == ["em", "cer"]
    # s2 failed: it is counted, not scored as a wrong answer
    assert out["value"].tolist() == pytest.approx([3 / 4, 0.75 / 4])
    assert out["n"].tolist() == [4, 4]
    assert out["n_errors"].tolist() == [1, 1]
    assert out["n_total"].tolist() == [5, 5]


def test_by_doc_type_groups_and_counts():
    out = aggregate_scores(scores_frame(), ["em"], "by_doc_class").set_index("group")
    assert set(out.index) == {"invoice", "receipt", "unknown"}
    assert out.loc["invoice", "n"] == 2 and out.loc["invoice", "n_errors"] == 1
    assert out.loc["invoice", "n_total"] == 3
    assert out.loc["invoice", "value"] == pytest.approx(1.0)
    assert out.loc["receipt", "n"] == 1 and out.loc["receipt", "value"] == 1.0
    assert out.loc["unknown", "n"] == 1 and out.loc["unknown", "value"] == 0.0
    # a group of one has no spread to resample: no CI
    assert np.isnan(out.loc["receipt", "ci_low"]) and np.isnan(out.loc["receipt", "ci_high"])
    assert not np.isnan(out.loc["invoice", "ci_low"])


def test_by_doc_question_joins_both_labels():
    out = aggregate_scores(scores_frame(), ["cer"], "by_doc_question").set_index("group")
    assert set(out.index) == {"invoice/field", "invoice/full_text", "receipt/field", "unknown/field"}
    assert out.loc["invoice/field", "n"] == 2
    # its only sample failed: no answer, no figure
    assert out.loc["invoice/full_text", "n"] == 0 and np.isnan(out.loc["invoice/full_text", "value"])


def test_by_question_type():
    out = aggregate_scores(scores_frame(), ["em"], "by_question_type").set_index("group")
    assert out.loc["field", "n"] == 4 and out.loc["field", "value"] == pytest.approx(3 / 4)


def test_by_id_is_one_row_per_sample_without_ci():
    out = aggregate_scores(scores_frame(), ["em", "cer"], "by_id")
    assert len(out) == 10
    assert (out["n_total"] == 1).all()
    assert out.set_index(["group", "metric"]).loc[("s2", "cer"), "n"] == 0
    assert out["ci_low"].isna().all()
    assert out.set_index(["group", "metric"]).loc[("s3", "cer"), "value"] == 0.5


def test_ci_contains_the_mean_and_narrows_with_n():
    rng = np.random.default_rng(42)
    widths = []
    for n in (10, 100, 1000):
        values = rng.binomial(1, 0.3, size=n).astype(float)
        low, high = bootstrap_ci(values)
        assert low[0] <= values.mean() <= high[0]
        widths.append(high[0] - low[0])
    assert widths[0] > widths[1] > widths[2]
    # the normal approximation 2 * 1.96 * sd / sqrt(n) for n = 1000
    assert widths[2] == pytest.approx(2 * 1.96 * np.sqrt(0.3 * 0.7 / 1000), rel=0.2)


def test_ci_is_reproducible_and_degenerate_for_constant_values():
    values = np.random.default_rng(1).random((50, 3))
    first, second = bootstrap_ci(values), bootstrap_ci(values)
    assert np.array_equal(first[0], second[0]) and np.array_equal(first[1], second[1])
    low, high = bootstrap_ci(np.full(20, 0.7))
    assert low[0] == pytest.approx(0.7) and high[0] == pytest.approx(0.7)


def test_ci_per_metric_column_is_that_metrics_own():
    rng = np.random.default_rng(3)
    values = np.column_stack([rng.random(200), 10 + rng.random(200)])
    low, high = bootstrap_ci(values)
    assert 0 < low[0] < high[0] < 1
    assert 10 < low[1] < high[1] < 11


def test_ten_thousand_samples_five_metrics_aggregate_correctly():
    rng = np.random.default_rng(0)
    n = 10_000
    frame = pd.DataFrame(
        {
            "id": [f"s{i}" for i in range(n)],
            "doc_class": rng.choice(["invoice", "receipt", "passport", "form"], n),
            "question_type": rng.choice(["field", "full_text"], n),
            "error": rng.random(n) < 0.01,
        }
    )
    metrics = [f"m{j}" for j in range(5)]
    for metric in metrics:
        frame[metric] = rng.random(n)
    general = aggregate_scores(frame, metrics, "general")
    by_doc = aggregate_scores(frame, metrics, "by_doc_type")
    by_id = aggregate_scores(frame, metrics, "by_id")
    assert len(general) == 5 and len(by_doc) == 20 and len(by_id) == 50_000
    assert general["value"].tolist() == pytest.approx(frame.loc[~frame["error"], metrics].mean().tolist())


def test_group_codes_are_the_factorized_labels_of_every_row():
    """Labelling each distinct value once gives the groups and codes that labelling every row gives."""
    from vlmbench.metrics.aggregate import group_codes, group_labels

    rng = np.random.default_rng(3)
    values = np.array([None, float("nan"), "", "  ", " a", "a", "a ", "b", "b/c", "ü", 3, "3", "x y"], dtype=object)
    for _ in range(100):
        n = int(rng.integers(1, 50))
        frame = pd.DataFrame({"id": [f"s{i}" for i in range(n)], **{
            column: rng.choice(values, n) for column in ("doc_class", "question_type", "lang")}})
        for aggregator in ("general", "by_doc_type", "by_doc_question", "by_id", "by_lang"):
            codes, groups = pd.factorize(group_labels(frame, aggregator), sort=True)
            found_codes, found_groups = group_codes(frame, aggregator)
            assert list(found_groups) == list(groups) and found_codes.tolist() == codes.tolist()


@pytest.mark.parametrize(
    "values",
    [
        np.random.default_rng(5).binomial(1, 0.3, size=400).astype(float),  # accuracy: 0/1
        np.random.default_rng(6).choice([0.0, 0.25, 0.5, 1.0], size=300, p=[0.4, 0.1, 0.2, 0.3]),  # few values
    ],
)
def test_a_metric_of_few_values_is_scipys_percentile_bootstrap(values):
    # Drawn through its values' counts (one multinomial draw per resample), not sample by sample.
    from scipy import stats

    low, high = bootstrap_ci(values)
    theirs = stats.bootstrap((values,), np.mean, n_resamples=20_000, method="percentile", random_state=1)
    # Within the Monte Carlo error of 1,000 resamples of ours.
    assert low[0] == pytest.approx(theirs.confidence_interval.low, abs=0.012)
    assert high[0] == pytest.approx(theirs.confidence_interval.high, abs=0.012)


def test_counted_and_sample_by_sample_draws_give_the_same_intervals(monkeypatch):
    from vlmbench.metrics import aggregate

    rng = np.random.default_rng(8)
    frame = pd.DataFrame({"id": [f"s{i}" for i in range(3000)], "error": False,
                          "doc_class": rng.choice(["invoice", "receipt", "form"], 3000, p=[0.8, 0.15, 0.05]),
                          "em": rng.binomial(1, 0.7, 3000).astype(float), "cer": rng.random(3000)})
    counted = aggregate_scores(frame, ["em", "cer"], "by_doc_type").set_index(["group", "metric"])
    monkeypatch.setattr(aggregate, "MAX_COUNTED_LEVELS", 0)
    drawn = aggregate_scores(frame, ["em", "cer"], "by_doc_type").set_index(["group", "metric"])
    # The continuous metric never went through counts: its bounds are the same numbers.
    cer = counted.xs("cer", level="metric")
    assert cer[["ci_low", "ci_high"]].equals(drawn.xs("cer", level="metric")[["ci_low", "ci_high"]])
    for group in ("invoice", "receipt", "form"):
        width = drawn.loc[(group, "em"), "ci_high"] - drawn.loc[(group, "em"), "ci_low"]
        for bound in ("ci_low", "ci_high"):
            assert counted.loc[(group, "em"), bound] == pytest.approx(drawn.loc[(group, "em"), bound],
                                                                      abs=0.15 * width)


def test_many_small_groups_drawn_through_counts_in_batches():
    # 2,500 groups of two 0/1 values: more groups than one batch of counted draws holds.
    n = 5000
    frame = pd.DataFrame({"id": [f"s{i}" for i in range(n)], "error": False,
                          "pair": [f"p{i // 2}" for i in range(n)],
                          "em": [float(i % 4 != 0) for i in range(n)]})  # pairs alternate (0, 1) and (1, 1)
    out = aggregate_scores(frame, ["em"], "by_pair").set_index("group")
    assert len(out) == 2500
    mixed, agreeing = out.loc["p0"], out.loc["p1"]
    assert (mixed["value"], mixed["ci_low"], mixed["ci_high"]) == (0.5, 0.0, 1.0)
    assert (agreeing["value"], agreeing["ci_low"], agreeing["ci_high"]) == (1.0, 1.0, 1.0)
    assert (out["ci_low"] <= out["value"]).all() and (out["value"] <= out["ci_high"]).all()
    assert out.loc[[f"p{i}" for i in range(0, 2500, 2)], "ci_high"].eq(1.0).all()
