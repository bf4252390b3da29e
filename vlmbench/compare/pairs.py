"""Every pair of models on the same samples: paired differences, Holm-corrected tests, a grouped ranking.

Within one dataset (and task) and one metric, each pair of models is
compared on the samples both answered; the pairs' p-values are corrected
together (Holm), and the models are ranked in groups: the best model not
yet placed leads a group, and every model not significantly different
from it joins that group.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
from pydantic import BaseModel

from vlmbench.compare.contenders import Contender, Contenders
from vlmbench.errors import CompareError
from vlmbench.metrics.aggregate import CI_LEVEL
from vlmbench.metrics.paired import PairedDifference, PairedTestName, holm, is_binary, paired_difference

ALPHA = round(1.0 - CI_LEVEL, 10)  # the tests' level matches the intervals': 5%


class RankedModel(BaseModel):
    """A model's place on one metric: its group (1 = the best group) and its mean over its answered samples."""

    label: str
    model_name: str
    framework: str
    run_dir: str
    job_id: str
    group: int
    mean: float
    n: int


class PairResult(PairedDifference):
    """``a`` (ranked higher) against ``b``: the mean of a − b over the samples both answered, with the p-value
    Holm-corrected over its table's pairs."""

    a: str
    b: str
    p_holm: float
    significant: bool


class MetricComparison(BaseModel):
    dataset: str
    task: str | None = None
    metric: str
    higher_is_better: bool
    n_samples: int
    test: PairedTestName
    models: list[RankedModel]
    pairs: list[PairResult]


class Comparison(BaseModel):
    """What `vlmbench compare --json` prints and the report's comparison section shows."""

    alpha: float = ALPHA
    ci_level: float = CI_LEVEL
    tables: list[MetricComparison]
    unscored: list[str] = []
    refused: list[str] = []  # datasets whose jobs scored different samples (only when not strict)


def _check_same_samples(jobs: list[Contender]) -> None:
    """Pairs need the same samples on both sides: a different sample set (a --limit, a filter, an
    unfinished job) is refused rather than compared on a part the reader would not see."""
    first = jobs[0]
    first_ids = set(first.ids)
    for other in jobs[1:]:
        ids = set(other.ids)
        if ids == first_ids:
            continue
        only_first, only_other = sorted(first_ids - ids), sorted(ids - first_ids)
        example = (f"{only_first[0]!r} only in {first.label}'s" if only_first
                   else f"{only_other[0]!r} only in {other.label}'s")
        raise CompareError(
            f"cannot compare {first.where()} and {other.where()} on {first.dataset}: they scored different "
            f"samples ({len(first_ids):,} and {len(ids):,}; e.g. {example})",
            hint="compare runs made with the same dataset, limit, sample and filters, each job finished")


def _aligned(jobs: list[Contender], metric: str) -> list[np.ndarray]:
    """Each job's scores in the first job's sample order."""
    order = jobs[0].ids
    columns = []
    for job in jobs:
        position = dict(zip(job.ids, range(len(job.ids))))
        columns.append(job.values[metric][[position[i] for i in order]])
    return columns


def _groups(labels: list[str], significant: dict[frozenset[str], bool]) -> list[int]:
    """Group numbers for models listed best first: each group's leader is the best model left, and the
    models not significantly different from the leader join it."""
    group = [0] * len(labels)
    number = 0
    for leader in range(len(labels)):
        if group[leader]:
            continue
        number += 1
        group[leader] = number
        for other in range(leader + 1, len(labels)):
            if not group[other] and not significant[frozenset((labels[leader], labels[other]))]:
                group[other] = number
    return group


def compare_metric(jobs: list[Contender], metric: str, alpha: float = ALPHA) -> MetricComparison:
    """All pairs of ``jobs`` (same samples, checked before) on ``metric``."""
    columns = _aligned(jobs, metric)
    higher = jobs[0].higher_is_better[metric]
    sign = 1.0 if higher else -1.0
    means = [float(np.nanmean(c)) if np.isfinite(c).any() else float("nan") for c in columns]
    # Best first; a model with no answered sample last.
    order = sorted(range(len(jobs)), key=lambda i: (np.isnan(means[i]), -sign * np.nan_to_num(means[i])))
    binary = is_binary(*(c[np.isfinite(c)] for c in columns))
    raw = []
    for i, j in combinations(order, 2):
        both = np.isfinite(columns[i]) & np.isfinite(columns[j])
        raw.append((i, j, paired_difference(columns[i][both], columns[j][both], binary=binary)))
    p_values = np.array([d.p_value for _, _, d in raw])
    tested = np.isfinite(p_values)
    adjusted = np.full(len(raw), np.nan)
    adjusted[tested] = holm(p_values[tested])
    pairs = [PairResult(a=jobs[i].label, b=jobs[j].label, p_holm=float(p), significant=bool(p < alpha),
                        **d.model_dump())
             for (i, j, d), p in zip(raw, adjusted, strict=True)]
    labels = [jobs[i].label for i in order]
    groups = _groups(labels, {frozenset((p.a, p.b)): p.significant for p in pairs})
    models = [RankedModel(label=jobs[i].label, model_name=jobs[i].model_name, framework=jobs[i].framework,
                          run_dir=str(jobs[i].run_dir), job_id=jobs[i].job_id, group=g, mean=means[i],
                          n=int(np.isfinite(columns[i]).sum()))
              for i, g in zip(order, groups)]
    return MetricComparison(dataset=jobs[0].dataset, task=jobs[0].task, metric=metric, higher_is_better=higher,
                            n_samples=len(jobs[0].ids), test="mcnemar" if binary else "sign-flip",
                            models=models, pairs=pairs)


def compare(found: Contenders, alpha: float = ALPHA, strict: bool = True) -> Comparison:
    """Every dataset (and task) with two models or more, each metric they share.

    Jobs of one dataset over different samples raise a CompareError, or with
    ``strict=False`` (a report) are listed in ``refused`` while the others are compared.
    """
    tables, refused = [], []
    for jobs in found.units().values():
        if len(jobs) < 2:
            continue
        try:
            _check_same_samples(jobs)
        except CompareError as exc:
            if strict:
                raise
            refused.append(str(exc))
            continue
        shared = [m for m in jobs[0].values if all(m in job.values for job in jobs[1:])]
        tables += [compare_metric(jobs, metric, alpha) for metric in shared]
    return Comparison(alpha=alpha, tables=tables, unscored=found.unscored, refused=refused)
