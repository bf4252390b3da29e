"""Quality against cost: the Pareto front, the cost of 1,000 samples, the GPU price's sources."""

import random

import numpy as np
import pytest

from vlmbench.datasets.schema import Sample
from vlmbench.errors import ConfigError
from vlmbench.metrics import score_job
from vlmbench.report import summarize_job
from vlmbench.report.cost import (
    NO_PRICE,
    cost_per_1k,
    cost_rows,
    format_cost,
    pareto_front,
    resolve_gpu_price,
)
from vlmbench.rundir.records import JobStatus, Prediction


def dominated_brute_force(points):
    """The definition, pair by pair: dominated by a point at least as good in both and better in one."""
    return [not any(o[0] >= p[0] and o[1] >= p[1] and o != p for o in points) for p in points]


def test_pareto_front_by_hand():
    points = [(10.0, 0.5), (1.0, 0.9), (5.0, 0.7), (4.0, 0.6), (10.0, 0.4), (1.0, 0.9)]
    # (4, .6) loses to (5, .7); (10, .4) to (10, .5); the two equal (1, .9) both stay.
    assert pareto_front(points) == [True, True, True, False, False, True]


@pytest.mark.parametrize("seed", range(20))
def test_pareto_front_matches_the_definition(seed):
    rng = random.Random(seed)
    # Few distinct values, so that ties in speed, in quality and whole points are common.
    points = [(float(rng.randint(1, 6)), float(rng.randint(0, 6))) for _ in range(rng.randint(1, 30))]
    assert pareto_front(points) == dominated_brute_force(points)


def test_cost_per_thousand_samples():
    # 3.6 per hour is 0.001 per second; 2 samples/s: 1,000 samples take 500 s.
    assert cost_per_1k(3.6, 2.0) == pytest.approx(0.5)
    assert cost_per_1k(None, 2.0) is None and cost_per_1k(3.6, None) is None and cost_per_1k(3.6, 0.0) is None
    assert format_cost(None, None) == NO_PRICE  # no price: said, not invented
    assert format_cost(0.5, 3.6) == "0.50" and format_cost(0.0012, 3.6) == "0.0012"


def test_gpu_price_from_option_then_variable(monkeypatch):
    monkeypatch.delenv("VLMBENCH_GPU_PRICE", raising=False)
    assert resolve_gpu_price(None) is None
    monkeypatch.setenv("VLMBENCH_GPU_PRICE", "2.5")
    assert resolve_gpu_price(None) == 2.5
    assert resolve_gpu_price(1.0) == 1.0  # the option wins
    for bad in ("two", "-1", "nan"):
        monkeypatch.setenv("VLMBENCH_GPU_PRICE", bad)
        with pytest.raises(ConfigError, match="VLMBENCH_GPU_PRICE must be a number >= 0"):
            resolve_gpu_price(None)


def _job(job_id, model, correct, wall_s, latencies, tokens_per_s=None, metric="cer", predict_rate=None):
    samples = [Sample(id=f"s{i}", question="q", answer="abc") for i in range(len(latencies))]
    predictions = [Prediction(id=s.id, prompt="p", answer="abc" if i < correct else "xyz", latency_s=latency)
                   for i, (s, latency) in enumerate(zip(samples, latencies))]
    rows = score_job(samples, predictions, [metric], ["general"], job_id=job_id, model_name=model,
                     framework="f", dataset="docs", task=None).rows
    status = JobStatus(state="done", n_samples=len(samples), wall_s=wall_s, samples_per_s=len(samples) / wall_s,
                       tokens_per_s=tokens_per_s, predict_samples_per_s=predict_rate)
    return rows, summarize_job(job_id, model, "f", "docs", None, status, predictions)


def test_cost_rows_rank_an_error_rate_downwards():
    latencies = [0.1, 0.2, 0.3, 0.4, 1.0]
    jobs = [_job("a", "fast-sloppy", 1, 1.0, latencies), _job("b", "slow-exact", 5, 50.0, latencies, 12.5),
            _job("c", "slow-sloppy", 1, 60.0, latencies)]
    results = [row for rows, _ in jobs for row in rows]
    summaries = [summary for _, summary in jobs]
    rows = cost_rows(results, summaries, {"a": "A", "b": "B", "c": "C"}, price_per_hour=2.0)
    assert [(r.model, r.metric, r.pareto) for r in rows] == [("A", "cer", True), ("B", "cer", True),
                                                              ("C", "cer", False)]
    assert rows[1].quality == 0.0 and not rows[1].higher_is_better  # every answer right: CER 0
    assert rows[1].tokens_per_s == 12.5 and rows[0].tokens_per_s is None
    assert rows[0].cost_per_1k == pytest.approx(2.0 * 1000 / 5.0 / 3600)
    # The rate while predicting, where the worker reports it, rather than the whole job's (loading included).
    scored, summary = _job("d", "D", 5, 10.0, latencies, predict_rate=50.0)
    [timed] = cost_rows(scored, [summary], {}, price_per_hour=2.0)
    assert timed.samples_per_s == 50.0 and timed.cost_per_1k == pytest.approx(2.0 * 1000 / 50.0 / 3600)
    # p50 and p95 as numpy computes them.
    assert rows[0].p50_latency_s == pytest.approx(np.percentile(latencies, 50))
    assert rows[0].p95_latency_s == pytest.approx(np.percentile(latencies, 95))
