"""Per-sample scores → group figures with bootstrap confidence intervals.

Aggregator names are VLMHyperBench's (``general``, ``by_doc_type``,
``by_question_type``, ``by_doc_question``, ``by_id``) so its run CSVs work
unchanged; a few friendlier aliases map onto them, and ``by_<column>``
groups by any annotation column (``by_lang``).

A group's figure speaks only for its answered samples: a failed sample is
counted (``n_errors``) and lowers ``coverage``, never scored as a wrong
answer. Means come with a percentile bootstrap interval; corpus metrics
(BLEU, chrF) pool their statistics over the group and are bootstrapped the
same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from vlmbench.metrics.registry import CorpusScore, MetricError
from vlmbench.suggest import close_names, spelling_key, suggest

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
CUSTOM_PREFIX = "by_"
_CUSTOM = re.compile(r"by[_\-\s:]+(?P<column>\S.*)", re.IGNORECASE)
OVERALL_GROUP = "all"
UNKNOWN_GROUP = "unknown"  # samples without a value in the grouping column
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 0
CI_LEVEL = 0.95
# A group of more samples is resampled as this many random blocks of near-equal
# size (block sums are i.i.d. like the samples): the cost stays resamples × blocks
# however large the group, and with one sample per block it is the plain bootstrap.
MAX_BOOTSTRAP_BLOCKS = 2000
# Resamples × blocks drawn at once: bounds the draw's arrays at ~50 MB. Draws come from one stream in
# order, so the size of a chunk changes no figure.
_CHUNK_ELEMENTS = 1_000_000
# A metric taking at most this many values (0/1 accuracy, ANLS on short answers) is resampled through
# the counts of its values: a cost of resamples × values per group rather than resamples × samples.
MAX_COUNTED_LEVELS = 32


def resolve_aggregator(name: str) -> str:
    """The canonical name of an aggregator in any spelling (``By-Doc-Class`` → ``by_doc_type``).

    Any other ``by_<column>`` groups by that annotation column, unless it is
    one typo away from a built-in name (``by_doc_typ`` is a mistake, not a column).
    """
    key = spelling_key(name)
    for known in [*AGGREGATORS, *AGGREGATOR_ALIASES]:
        if spelling_key(known) == key:
            return AGGREGATOR_ALIASES.get(known, known)
    match = _CUSTOM.fullmatch(name.strip())
    near_miss = close_names(name, [*AGGREGATORS, *AGGREGATOR_ALIASES], cutoff=0.85)
    if match and not near_miss:
        return CUSTOM_PREFIX + match.group("column").strip()
    hint = suggest(name, list(AGGREGATORS), AGGREGATOR_ALIASES)
    raise MetricError(f"unknown aggregator {name!r}",
                      hint=f"{hint}, or by_<column> for any annotation column")


def list_aggregators() -> list[str]:
    return list(AGGREGATORS)


def group_columns(aggregator: str) -> tuple[str, ...]:
    """The sample fields or annotation columns an aggregator groups by."""
    name = resolve_aggregator(aggregator)
    if name in AGGREGATORS:
        return AGGREGATORS[name]
    return (name.removeprefix(CUSTOM_PREFIX),)


def group_labels(scores: pd.DataFrame, aggregator: str) -> pd.Series:
    """One group label per score row: "all", a doc_class, "doc_class/question_type", an id, a value."""
    import pandas as pd

    columns = group_columns(aggregator)
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


def _group_label(value: object) -> str:
    text = str(value).strip()  # the same string object when there is nothing to strip
    return text if text else UNKNOWN_GROUP


def group_codes(scores: pd.DataFrame, aggregator: str) -> tuple[np.ndarray, np.ndarray]:
    """Each score row's group as an index into the sorted group labels: what ``pd.factorize(group_labels(
    scores, aggregator), sort=True)`` gives, with each distinct value labelled once rather than each row.

    Built without pandas' factorize, whose hash table is sized to the whole column: a million rows hold
    over 100 MB for a moment, where the few distinct values of a group column need a dict.
    """
    import pandas as pd

    columns = group_columns(aggregator)
    if not columns:
        return np.zeros(len(scores), dtype=np.intp), np.array([OVERALL_GROUP], dtype=object)
    key: np.ndarray | None = None
    names: list[list[str]] = []
    for column in columns:
        values = scores[column].to_numpy(dtype=object)
        if (missing := pd.isna(values)).any():
            values = np.where(missing, _MISSING, values)  # None and NaN alike: one value, labelled unknown
        seen: dict[object, int] = {}
        codes = np.fromiter((seen.setdefault(value, len(seen)) for value in values), dtype=np.int64,
                            count=len(values))
        labels = [UNKNOWN_GROUP if value is _MISSING else _group_label(value) for value in seen]
        key = codes if key is None else key * len(labels) + codes
        names.append(labels)
    combination, keys = _dense(key)
    parts = []
    for labels in reversed(names):  # the last column is the key's lowest digit
        keys, index = np.divmod(keys, len(labels))
        parts.append(np.asarray(labels, dtype=object)[index])
    combined = ["/".join(row) for row in zip(*reversed(parts))]  # one per combination present
    label_codes, groups = pd.factorize(np.asarray(combined, dtype=object), sort=True)
    return label_codes[combination].astype(np.intp, copy=False), np.asarray(groups, dtype=object)


_MISSING = object()


def _dense(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``key`` (non-negative) as codes 0..k-1 of its distinct values, and those values in code order."""
    if len(key) and key.max() < 4 * len(key):  # a key per combination of few values: one count each
        present = np.flatnonzero(np.bincount(key))
        code_of = np.zeros(int(key.max()) + 1, dtype=np.intp)
        code_of[present] = np.arange(len(present))
        return code_of[key], present
    present, codes = np.unique(key, return_inverse=True)
    return codes.astype(np.intp, copy=False), present


def bootstrap_ci(
    values: np.ndarray,
    resamples: int = BOOTSTRAP_RESAMPLES,
    level: float = CI_LEVEL,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap CI of the mean of each column of ``values`` (n × metrics)."""
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    codes = np.zeros(len(values), dtype=np.intp)
    _, low, high = _grouped_bootstrap(codes, 1, values, {}, resamples, level, seed)
    return low[0], high[0]


def _blocks(codes: np.ndarray, n_groups: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Assign each sample a block: (block id per sample, block count per group, first block per group).

    Samples of a group are dealt round-robin, in a seeded random order, into
    min(size, MAX_BOOTSTRAP_BLOCKS) blocks, so blocks are random and near-equal.
    """
    sizes = np.bincount(codes, minlength=n_groups)
    n_blocks = np.minimum(sizes, MAX_BOOTSTRAP_BLOCKS)
    first = np.concatenate([[0], np.cumsum(n_blocks)[:-1]])
    order = np.lexsort((np.random.default_rng(seed + 1).random(len(codes)), codes))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    # Each sample's rank within its group, then its block; in place, so that a million samples hold two
    # arrays of their length at a time rather than six.
    block = np.empty(len(codes), dtype=np.intp)
    block[order] = np.arange(len(codes))
    block -= starts[codes]
    np.remainder(block, np.maximum(n_blocks, 1)[codes], out=block)
    block += first[codes]
    return block, n_blocks, first


def _grouped_bootstrap(
    codes: np.ndarray,
    n_groups: int,
    values: np.ndarray,
    corpus: Mapping[int, tuple[CorpusScore, np.ndarray]],
    resamples: int = BOOTSTRAP_RESAMPLES,
    level: float = CI_LEVEL,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Figure and CI of every (group, metric); groups of fewer than 2 samples get NaN bounds.

    ``values`` is n × m (one column per metric); ``corpus`` maps a column
    index to (scorer, n × k statistics) for metrics whose figure is the
    score of pooled statistics rather than a mean. A metric taking few values
    is resampled through their counts; the others share the resamples, and
    groups are drawn together, in batches that bound memory.
    """
    m = values.shape[1]
    sizes = np.bincount(codes, minlength=n_groups)
    figures = np.full((n_groups, m), np.nan)
    for j in range(m):
        if j in corpus:
            scorer, stats = corpus[j]
            figure = np.asarray(scorer.score(_sum_rows(codes, stats, n_groups)), dtype=float)
        else:
            figure = np.bincount(codes, weights=values[:, j], minlength=n_groups) / np.maximum(sizes, 1)
        figures[:, j] = np.where(sizes > 0, figure, np.nan)

    low = np.full((n_groups, m), np.nan)
    high = np.full((n_groups, m), np.nan)
    resampled = np.flatnonzero(sizes >= 2)  # one sample has no spread to resample
    tail = (1.0 - level) / 2.0
    counted = _counted_bootstrap(codes, sizes, resampled[sizes[resampled] <= MAX_BOOTSTRAP_BLOCKS], values,
                                 corpus, figures, (low, high), resamples, tail, np.random.default_rng(seed + 2))
    resampled = resampled[~counted[resampled].all(axis=1)]
    if not len(resampled):
        return figures, low, high
    block, n_blocks, first = _blocks(codes, n_groups, seed)
    # Per block: its sample count, then each metric's sum (or each corpus statistic's sum).
    columns = [np.bincount(block, minlength=int(n_blocks.sum())).astype(float)]
    layout: list[tuple[int, int]] = []  # metric → (first column, width)
    for j in range(m):
        own = corpus[j][1] if j in corpus else values[:, j : j + 1]
        layout.append((len(columns), own.shape[1]))
        columns += list(_sum_rows(block, own, int(n_blocks.sum())).T)
    block_sums = np.stack(columns, 1)
    rng = np.random.default_rng(seed)
    per_batch = max(1, 4_000_000 // (resamples * m))  # bounds the resampled figures at ~32 MB
    for begin in range(0, len(resampled), per_batch):
        groups = resampled[begin : begin + per_batch]
        drawn = _draw(groups, n_blocks, first, block_sums, layout, corpus, resamples, rng)
        lo, hi = np.quantile(drawn, [tail, 1.0 - tail], axis=0)
        # A percentile interval can, for tiny skewed groups, miss the point
        # estimate by a rounding; a reader expects value ∈ [low, high].
        keep = counted[groups]  # drawn as counts above: those bounds stay
        low[groups] = np.where(keep, low[groups], np.minimum(lo, figures[groups]))
        high[groups] = np.where(keep, high[groups], np.maximum(hi, figures[groups]))
    return figures, low, high


def _counted_bootstrap(codes: np.ndarray, sizes: np.ndarray, plain: np.ndarray, values: np.ndarray,
                       corpus: Mapping[int, tuple[CorpusScore, np.ndarray]], figures: np.ndarray,
                       bounds: tuple[np.ndarray, np.ndarray], resamples: int, tail: float,
                       rng: np.random.Generator) -> np.ndarray:
    """Bounds of each metric taking few values (:func:`_draw_counts`) in the ``plain`` groups (one sample
    per block; ``sizes`` per group), written into ``bounds``; returns which (group, metric) it bounded."""
    n_groups, m = figures.shape
    low, high = bounds
    counted = np.zeros((n_groups, m), dtype=bool)
    if not len(plain):
        return counted
    for j in range(m):
        if j in corpus:
            continue
        if len(np.unique(values[:1000, j])) > MAX_COUNTED_LEVELS:
            continue  # plainly many values: not worth sorting the whole column to learn it
        levels, level_of = np.unique(values[:, j], return_inverse=True)
        if len(levels) > MAX_COUNTED_LEVELS or np.isnan(levels).any():
            continue
        counts = np.bincount(codes * len(levels) + level_of, minlength=n_groups * len(levels))
        counts = counts.reshape(n_groups, len(levels))
        per_batch = max(1, 4_000_000 // (resamples * len(levels)))  # bounds the drawn counts at ~32 MB
        for begin in range(0, len(plain), per_batch):
            groups = plain[begin : begin + per_batch]
            drawn = _draw_counts(sizes[groups], counts[groups], levels, resamples, rng)
            lo, hi = np.quantile(drawn, [tail, 1.0 - tail], axis=0)
            low[groups, j] = np.minimum(lo, figures[groups, j])
            high[groups, j] = np.maximum(hi, figures[groups, j])
        counted[plain, j] = True
    return counted


def _draw_counts(sizes: np.ndarray, counts: np.ndarray, levels: np.ndarray, resamples: int,
                 rng: np.random.Generator) -> np.ndarray:
    """Resampled means (resamples × groups) of a metric taking few values, from each value's count.

    Drawing a group's n samples with replacement draws each value's count from
    Multinomial(n, its share of the group): the same distribution of resampled
    means as drawing the samples, for one number per value instead of n per resample
    (a 0/1 metric is the binomial case).
    """
    drawn = rng.multinomial(sizes, counts / sizes[:, None], size=(resamples, len(sizes)))
    return (drawn @ levels) / sizes


def _sum_rows(codes: np.ndarray, rows: np.ndarray, n_groups: int) -> np.ndarray:
    """Column sums of ``rows`` (n × k) per code: n_groups × k."""
    return np.stack([np.bincount(codes, weights=rows[:, k], minlength=n_groups) for k in range(rows.shape[1])], 1)


def _draw(groups: np.ndarray, n_blocks: np.ndarray, first: np.ndarray, block_sums: np.ndarray,
          layout: list[tuple[int, int]], corpus: Mapping[int, tuple[CorpusScore, np.ndarray]],
          resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Resampled figures (resamples × groups × metrics): each group redraws its blocks with replacement."""
    slot_group = np.repeat(np.arange(len(groups)), n_blocks[groups])  # one draw per block of each group
    slot_first, slot_count = first[groups][slot_group], n_blocks[groups][slot_group]
    drawn = np.empty((resamples, len(groups), len(layout)))
    chunk = max(1, min(resamples, _CHUNK_ELEMENTS // len(slot_group)))
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        picks = slot_first + (rng.random((size, len(slot_group))) * slot_count).astype(np.intp)
        target = (np.arange(size)[:, None] * len(groups) + slot_group).ravel()
        pooled = np.stack([np.bincount(target, weights=block_sums[picks, c].ravel(), minlength=size * len(groups))
                           for c in range(block_sums.shape[1])], -1).reshape(size, len(groups), -1)
        for j, (column, width) in enumerate(layout):
            if j in corpus:
                drawn[start:start + size, :, j] = corpus[j][0].score(pooled[..., column : column + width])
            else:
                drawn[start:start + size, :, j] = pooled[..., column] / np.maximum(pooled[..., 0], 1)
    return drawn


def aggregate_scores(
    scores: pd.DataFrame,
    metrics: list[str],
    aggregator: str,
    corpus: Mapping[str, tuple[CorpusScore, np.ndarray]] | None = None,
) -> pd.DataFrame:
    """Each metric's figure per group over the group's answered samples, with CI and counts.

    ``scores`` has one row per planned sample: ``id``, the grouping columns,
    ``error`` (the prediction failed), optionally ``answered`` (default: not
    ``error``) and one column per metric. ``corpus`` maps a metric to its
    corpus scorer and per-sample statistics (rows aligned with ``scores``);
    ``by_id`` keeps the per-sample value. Returns columns ``group, metric,
    value, ci_low, ci_high, n, n_errors, n_total``.
    """
    import pandas as pd

    codes, groups = group_codes(scores, aggregator)
    n_groups = len(groups)
    answered = (scores["answered"] if "answered" in scores else ~scores["error"]).to_numpy(dtype=bool)
    errors = np.bincount(codes, weights=scores["error"].to_numpy(dtype=float), minlength=n_groups)
    totals = np.bincount(codes, minlength=n_groups)
    values = scores.loc[answered, metrics].to_numpy(dtype=float).reshape(int(answered.sum()), len(metrics))
    per_sample = resolve_aggregator(aggregator) == "by_id"
    pooled = {metrics.index(name): (scorer, np.asarray(stats, dtype=float)[answered])
              for name, (scorer, stats) in (corpus or {}).items() if name in metrics and not per_sample}
    figures, low, high = _grouped_bootstrap(codes[answered], n_groups, values, pooled)
    counts = np.bincount(codes[answered], minlength=n_groups)
    return pd.DataFrame(
        {
            "group": np.repeat(np.asarray(groups, dtype=object), len(metrics)),
            "metric": np.tile(np.asarray(metrics, dtype=object), n_groups),
            "value": figures.ravel(),
            "ci_low": low.ravel(),
            "ci_high": high.ravel(),
            "n": np.repeat(counts, len(metrics)),
            "n_errors": np.repeat(errors.astype(int), len(metrics)),
            "n_total": np.repeat(totals, len(metrics)),
        }
    )
