"""Job summaries and the rich tables printed at the end of a run."""

from __future__ import annotations

import numpy as np
import pytest
from rich.console import Console

from vlmbench.jobfiles import JobStatus, Prediction
from vlmbench.metrics import ResultRow
from vlmbench.report import JobSummary, jobs_table, results_table, summarize_job
from vlmbench.report.table import format_score, format_seconds


def result(
    model: str, dataset: str, metric: str, value: float, *,
    aggregator="general", group="all", higher=True, ci=None, framework="transformers",
) -> ResultRow:
    return ResultRow(job_id=f"{model}-{dataset}", model_name=model, framework=framework, dataset=dataset,
                     metric=metric, aggregator=aggregator, group=group, value=value, n=10,
                     ci_low=ci[0] if ci else None, ci_high=ci[1] if ci else None, higher_is_better=higher)


def render(table) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(table)
    return console.export_text()


def test_summary_from_predictions():
    latencies = [0.5, 1.0, 1.5, 2.0, 10.0]
    predictions = [
        Prediction(id=f"s{i}", prompt="p", answer="x", latency_s=t) for i, t in enumerate(latencies)
    ]
    predictions.append(Prediction(id="bad", prompt="p", error="OOM", latency_s=99.0))
    status = JobStatus(state="done", n_samples=8, n_done=3, wall_s=12.0)
    summary = summarize_job("j", "m", "f", "d", None, status, predictions)
    assert summary.n_done == 6 and summary.n_errors == 1 and summary.n_samples == 8
    assert summary.mean_latency_s == pytest.approx(np.mean(latencies))  # the failed call is left out
    assert summary.p50_latency_s == pytest.approx(np.percentile(latencies, 50))
    assert summary.p95_latency_s == pytest.approx(np.percentile(latencies, 95))
    assert summary.samples_per_s == pytest.approx(6 / 12.0)


def test_summary_of_a_job_that_never_answered():
    status = JobStatus(state="failed", n_samples=5, error="image not found", exit_code=1)
    summary = summarize_job("j", "m", "f", "d", "t", status, [])
    assert summary.state == "failed" and summary.n_done == 0 and summary.error == "image not found"
    assert summary.mean_latency_s is None and summary.samples_per_s is None


def test_format_helpers():
    assert format_score(result("m", "d", "anls", 0.87654, ci=(0.85, 0.9))) == "0.877 ± 0.025"
    assert format_score(result("m", "d", "anls", 1.0)) == "1.000"
    formatted = [format_seconds(s) for s in (None, 0.25, 3.21, 125, 7300)]
    assert formatted == ["–", "250 ms", "3.2 s", "2m 05s", "2h 01m"]


def test_results_table_one_row_per_model_and_dataset():
    rows = [
        result("qwen", "docs", "anls", 0.9, ci=(0.85, 0.95)),
        result("qwen", "docs", "cer", 0.05, higher=False),
        result("smol", "docs", "anls", 0.5),
        result("smol", "docs", "cer", 0.4, higher=False),
        result("qwen", "vqa", "anls", 0.7),
        result("qwen", "docs", "anls", 0.2, aggregator="by_doc_type", group="invoice"),
    ]
    table = results_table(rows)
    assert table.row_count == 3
    headers = [column.header for column in table.columns]
    assert "anls ↑" in headers and "cer ↓" in headers and "group" not in headers
    text = render(table)
    assert "0.900 ± 0.050" in text and "0.400" in text
    assert "framework" not in text  # one framework: no column for it


def test_results_table_per_group_and_frameworks():
    rows = [
        result("qwen", "docs", "anls", 0.2, aggregator="by_doc_type", group="invoice"),
        result("qwen", "docs", "anls", 0.4, aggregator="by_doc_type", group="receipt", framework="vllm"),
    ]
    table = results_table(rows, "by_doc_class")
    headers = [column.header for column in table.columns]
    assert "group" in headers and "framework" in headers and table.row_count == 2


def test_markup_in_names_is_printed_literally():
    text = render(results_table([result("[bold]x", "[red]d", "anls", 0.5)]))
    assert "[bold]x" in text and "[red]d" in text


def test_jobs_table():
    jobs = [
        JobSummary(job_id="a" * 20, model_name="qwen", framework="vllm", dataset="docs", state="done",
                   n_samples=10, n_done=10, n_errors=0, wall_s=30.0, samples_per_s=0.33, mean_latency_s=2.5),
        JobSummary(job_id="b" * 20, model_name="smol", framework="transformers", dataset="docs",
                   state="failed", n_samples=10, n_done=4, n_errors=1, oom=True,
                   error="killed\ntraceback..."),
    ]
    table = jobs_table(jobs)
    assert table.row_count == 2
    text = render(table)
    assert "aaaaaaaa" in text and "a" * 9 not in text  # short job ids
    assert "(vllm)" in text  # several frameworks: each model says which
    assert "failed" in text and "4/10" in text and "out of memory. killed" in text
    assert "traceback" not in text  # only the first line of an error
