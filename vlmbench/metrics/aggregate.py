"""Per-sample scores → group means with bootstrap confidence intervals.

Aggregator names are VLMHyperBench's (``general``, ``by_doc_type``,
``by_question_type``, ``by_doc_question``, ``by_id``) so its run CSVs work
unchanged; a few friendlier aliases map onto them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from vlmbench.metrics.registry import MetricError, spelling_key, suggest

if TYPE_CHECKING:
    import pandas as pd

# aggregator → the score-table columns whose values name a group
AGGREGATORS: dict[str, tuple[str, ...]] = {
    "general": (),
    "by_doc_type": ("doc_class",),
    "by_question_type": ("question_type",),
    "by_doc_question": ("doc_class", "question_type"),
    "by_id": ("id",),
}
AGGREGATOR_ALIASES: dict[str, str] = {
    "overall": "general",
    "all": "general",
    "by_doc_class": "by_doc_type",
    "by_sample": "by_id",
    "by_doc_class_question_type": "by_doc_question",
}
OVERALL_GROUP = "all"
UNKNOWN_GROUP = "unknown"  # samples without a doc_class / question_type
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 0
CI_LEVEL = 0.95


def resolve_aggregator(name: str) -> str:
    """The canonical name of an aggregator in any spelling (``By-Doc-Class`` → ``by_doc_type``)."""
    key = spelling_key(name)
    for known in [*AGGREGATORS, *AGGREGATOR_ALIASES]:
        if spelling_key(known) == key:
            return AGGREGATOR_ALIASES.get(known, known)
    hint = suggest(name, list(AGGREGATORS), AGGREGATOR_ALIASES)
    raise MetricError(f"unknown aggregator {name!r}", hint=hint)


def list_aggregators() -> list[str]:
    return list(AGGREGATORS)


def group_labels(scores: pd.DataFrame, aggregator: str) -> pd.Series:
    """One group label per score row: "all", a doc_class, "doc_class/question_type", or an id."""
    import pandas as pd

    columns = AGGREGATORS[resolve_aggregator(aggregator)]
    if not columns:
        return pd.Series(OVERALL_GROUP, index=scores.index)
    parts = []
    for column in columns:
        text = scores[column].astype("object").where(scores[column].notna(), "").astype(str).str.strip()
        parts.append(text.where(text != "", UNKNOWN_GROUP))
    labels = parts[0]
    for part in parts[1:]:
        labels = labels + "/" + part
    return labels


def bootstrap_ci(
    values: np.ndarray,
    resamples: int = BOOTSTRAP_RESAMPLES,
    level: float = CI_LEVEL,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap CI of the mean of each column of ``values`` (n × metrics).

    Every metric shares the same resamples, drawn as per-sample counts so
    one matrix product gives all resampled means (no n × resamples × metrics
    array). The fixed seed makes a rerun reproduce results.csv exactly.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    n, m = values.shape
    rng = np.random.default_rng(seed)
    means = np.empty((resamples, m))
    chunk = max(1, min(resamples, 4_000_000 // max(n, 1)))  # bounds memory at ~32 MB
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        picks = rng.integers(0, n, size=(size, n)) + (np.arange(size) * n)[:, None]
        counts = np.bincount(picks.ravel(), minlength=size * n).reshape(size, n)
        means[start : start + size] = counts @ values / n
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail], axis=0)
    # A percentile interval can, for tiny skewed groups, miss the point
    # estimate by a rounding; a reader expects value ∈ [low, high].
    centre = values.mean(axis=0)
    return np.minimum(low, centre), np.maximum(high, centre)


def aggregate_scores(scores: pd.DataFrame, metrics: list[str], aggregator: str) -> pd.DataFrame:
    """Mean of each metric per group, with its CI (groups of 2+) and error count.

    ``scores`` has one row per sample: ``id``, ``doc_class``,
    ``question_type``, ``error`` (bool) and one column per metric. Returns
    columns ``group, metric, value, ci_low, ci_high, n, n_errors``.
    """
    import pandas as pd

    codes, groups = pd.factorize(group_labels(scores, aggregator), sort=True)
    values = scores[metrics].to_numpy(dtype=float).reshape(len(scores), len(metrics))
    n_groups = len(groups)
    counts = np.bincount(codes, minlength=n_groups)
    sums = np.zeros((n_groups, len(metrics)))
    for j, column in enumerate(values.T):
        sums[:, j] = np.bincount(codes, weights=column, minlength=n_groups)
    means = sums / np.maximum(counts, 1)[:, None]
    errors = np.bincount(codes, weights=scores["error"].to_numpy(dtype=float), minlength=n_groups)
    low = np.full_like(means, np.nan)
    high = np.full_like(means, np.nan)
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(counts)])
    for g in np.flatnonzero(counts >= 2):  # one sample has no spread to resample
        low[g], high[g] = bootstrap_ci(values[order[bounds[g] : bounds[g + 1]]])
    return pd.DataFrame(
        {
            "group": np.repeat(np.asarray(groups, dtype=object), len(metrics)),
            "metric": np.tile(np.asarray(metrics, dtype=object), n_groups),
            "value": means.ravel(),
            "ci_low": low.ravel(),
            "ci_high": high.ravel(),
            "n": np.repeat(counts, len(metrics)),
            "n_errors": np.repeat(errors.astype(int), len(metrics)),
        }
    )
