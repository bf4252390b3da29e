"""The jobs table shows the model's load time and its speed while predicting beside the whole job's."""

from __future__ import annotations

import pytest
from rich.console import Console

from vlmbench.executors.base import combine_shards
from vlmbench.report import jobs_table, summarize_job
from vlmbench.rundir.records import JobStatus, Prediction
from vlmbench.shards import Shard


def render(table, width: int) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(table)
    return console.export_text()


def status(**fields) -> JobStatus:
    base = {"state": "done", "n_samples": 2000, "n_done": 2000, "model_load_s": 10.2, "wall_s": 56.2,
            "samples_per_s": 35.57, "predict_s": 46.4, "predict_samples_per_s": 43.1}
    return JobStatus(**{**base, **fields})


def test_status_timings_reach_the_summary_and_the_table():
    predictions = [Prediction(id=f"s{i}", prompt="p", answer="a", latency_s=0.02) for i in range(2000)]
    summary = summarize_job("3dbf85c4aaaa", "easyvqa-tiny", "hf", "easy-vqa", None, status(), predictions)
    assert (summary.model_load_s, summary.predict_samples_per_s, summary.samples_per_s) == (10.2, 43.1, 35.57)
    text = render(jobs_table([summary]), 80)
    assert max(map(len, text.splitlines())) <= 80
    assert "load" in text and "10.2 s" in text  # the model's load time on its own
    assert "43.10" in text and "(35.57)" in text  # while predicting, and (the whole job)
    assert "while predicting" in text  # the caption says which is which
    assert "2000/2000" in text and "failed" not in text


def test_failed_samples_sit_under_the_count_and_old_statuses_show_dashes():
    old = JobStatus(state="done", n_samples=60, n_done=60, n_errors=3, wall_s=12.0)  # written before the fields
    summary = summarize_job("c" * 12, "tesseract-eng", "tesseract", "docs", None, old, [])
    text = render(jobs_table([summary]), 80)
    assert "60/60" in text and "3 failed" in text
    assert "(5.00)" in text  # the whole job's rate, from its wall time; the prediction phase's unknown: –
    assert summary.predict_samples_per_s is None and summary.model_load_s is None


@pytest.mark.parametrize(("rates", "expected"), [([2.0, 3.0], 5.0), ([2.0, None], 2.0), ([None, None], None)])
def test_shards_side_by_side_add_their_prediction_rates(rates, expected):
    ends = [status(n_samples=4, n_done=4, predict_s=10.0 + index, predict_samples_per_s=rate)
            for index, rate in enumerate(rates)]
    combined = combine_shards(ends, Shard.all_of(len(ends)))
    assert combined.predict_samples_per_s == expected
    assert combined.predict_s == 11.0  # the slowest shard's
