"""Quality against cost: per job, how fast and how dear its answers were, and which jobs no other beats.

Throughput is the job's rate while predicting (model loading left out: it
is paid once per job, whatever its size), or its whole run's where the
worker did not say. A job's cost per 1,000 samples is the GPU price the
user gives (currency per GPU-hour) times the time 1,000 samples take at
that rate on one GPU. Without a price nothing is invented; the report says
how to give one.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace

from vlmbench.errors import ConfigError
from vlmbench.report.caveats import is_number
from vlmbench.report.schema import JobSummary
from vlmbench.rundir.records import ResultRow

PRICE_VARIABLE = "VLMBENCH_GPU_PRICE"
NO_PRICE = "no price"


def resolve_gpu_price(option: float | None) -> float | None:
    """The GPU price per hour: the command-line option, else $VLMBENCH_GPU_PRICE, else None."""
    if option is not None:
        return option
    text = os.environ.get(PRICE_VARIABLE, "").strip()
    if not text:
        return None
    try:
        price = float(text)
    except ValueError:
        price = math.nan
    if not math.isfinite(price) or price < 0:
        raise ConfigError(f"{PRICE_VARIABLE} must be a number >= 0 (currency per GPU-hour), got {text!r}",
                          hint=f"e.g. {PRICE_VARIABLE}=2.5, or unset it")
    return price


@dataclass(frozen=True)
class CostRow:
    """One job's speed, memory, cost and headline score."""

    job_id: str
    model: str  # the display label
    dataset: str
    answered: int
    samples_per_s: float | None
    p50_latency_s: float | None
    p95_latency_s: float | None
    tokens_per_s: float | None
    peak_gpu_memory_mb: float | None
    cost_per_1k: float | None
    metric: str | None  # the dataset's headline metric (its first), None when the job has no score
    quality: float | None
    higher_is_better: bool = True
    pareto: bool = False  # no other job on the dataset is at least as fast and as good, and better in one


def cost_per_1k(price_per_hour: float | None, samples_per_s: float | None) -> float | None:
    """What 1,000 samples cost at this rate: price × hours per 1,000 samples."""
    if price_per_hour is None or not samples_per_s or samples_per_s <= 0:
        return None
    return price_per_hour * 1000 / samples_per_s / 3600


def pareto_front(points: list[tuple[float, float]]) -> list[bool]:
    """For each (speed, quality) point, bigger being better in both: whether no other point dominates it.

    A point is dominated by one at least as good in both and better in one;
    equal points are both on the front. Sorted sweep, O(n log n).
    """
    order = sorted(range(len(points)), key=lambda i: (-points[i][0], -points[i][1]))
    on_front = [False] * len(points)
    best_quality = -math.inf  # of the points strictly faster than the current speed group
    start = 0
    while start < len(order):
        speed = points[order[start]][0]
        end = start
        while end < len(order) and points[order[end]][0] == speed:
            end += 1
        group = order[start:end]
        top = points[group[0]][1]  # the group is sorted best quality first
        for i in group:
            # Among equal speeds only the best quality survives; it must beat every faster point.
            on_front[i] = points[i][1] == top and top > best_quality
        best_quality = max(best_quality, top)
        start = end
    return on_front


def headline_metrics(results: list[ResultRow]) -> dict[str, tuple[str, bool]]:
    """dataset → (its first metric, higher is better): the score a dataset's jobs are compared on."""
    found: dict[str, tuple[str, bool]] = {}
    for row in results:
        if row.aggregator == "general":
            found.setdefault(row.dataset, (row.metric, row.higher_is_better))
    return found


def cost_rows(results: list[ResultRow], jobs: list[JobSummary], labels: dict[str, str],
              price_per_hour: float | None) -> list[CostRow]:
    """One row per job with answers, in the jobs' order, the Pareto front marked per dataset."""
    headline = headline_metrics(results)
    overall = {(r.job_id, r.metric): r for r in results if r.aggregator == "general"}
    rows = []
    for job in jobs:
        answered = job.n_done - job.n_errors
        if answered <= 0:
            continue
        metric, higher = headline.get(job.dataset, (None, True))
        found = overall.get((job.job_id, metric)) if metric else None
        quality = found.value if found is not None and is_number(found.value) else None
        rate = job.predict_samples_per_s or job.samples_per_s
        rows.append(CostRow(
            job_id=job.job_id, model=labels.get(job.job_id, job.model_name), dataset=job.dataset,
            answered=answered, samples_per_s=rate, p50_latency_s=job.p50_latency_s,
            p95_latency_s=job.p95_latency_s, tokens_per_s=job.tokens_per_s,
            peak_gpu_memory_mb=job.peak_gpu_memory_mb, cost_per_1k=cost_per_1k(price_per_hour, rate),
            metric=metric if quality is not None else None, quality=quality, higher_is_better=higher))
    return _mark_fronts(rows)


def _mark_fronts(rows: list[CostRow]) -> list[CostRow]:
    marked = list(rows)
    for dataset in dict.fromkeys(r.dataset for r in rows):
        placed = [i for i, r in enumerate(rows) if r.dataset == dataset and r.quality is not None
                  and r.samples_per_s]
        sign = {i: 1 if rows[i].higher_is_better else -1 for i in placed}
        points = [(float(rows[i].samples_per_s or 0), sign[i] * float(rows[i].quality or 0)) for i in placed]
        for i, on in zip(placed, pareto_front(points)):
            if on:
                marked[i] = replace(rows[i], pareto=True)
    return marked


def format_memory(megabytes: float | None) -> str:
    if megabytes is None:
        return "–"
    return f"{megabytes / 1024:.1f} GiB" if megabytes >= 1024 else f"{megabytes:.0f} MiB"


def format_cost(cost: float | None, price_per_hour: float | None) -> str:
    if price_per_hour is None:
        return NO_PRICE
    if cost is None:
        return "–"
    return f"{cost:.4f}" if cost < 0.01 else f"{cost:.2f}"
