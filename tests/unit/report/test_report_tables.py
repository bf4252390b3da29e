"""Job summaries and the rich tables printed at the end of a run."""

from __future__ import annotations

import numpy as np
import pytest
from rich.console import Console

from vlmbench.metrics import ResultRow
from vlmbench.report import JobSummary, jobs_table, results_table, results_tables, summarize_job
from vlmbench.report.caveats import coverage_mark
from vlmbench.report.table import error_headline, format_score, format_seconds, score_grid
from vlmbench.rundir.records import JobStatus, Prediction


def result(
    model: str, dataset: str, metric: str, value: float, *,
    aggregator="general", group="all", higher=True, ci=None, framework="transformers",
    n=10, n_errors=0, n_total=None,
) -> ResultRow:
    return ResultRow(job_id=f"{model}-{dataset}", model_name=model, framework=framework, dataset=dataset,
                     metric=metric, aggregator=aggregator, group=group, value=value, n=n, n_errors=n_errors,
                     n_total=n_total, coverage=n / n_total if n_total else None,
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


# --- caveats: part-covered rows, sampling, intervals that overlap ----------------------------------------


def render_with_caveats(rows, jobs=None, width=200) -> str:
    """As `vlmbench run` prints scores: a table per dataset, its caveats under it."""
    console = Console(width=width, record=True, color_system=None)
    for group in results_tables(rows, jobs=jobs):
        console.print(group)
    return console.export_text()


def cell_texts(table, header: str) -> list:
    """The Text objects of one column, top to bottom."""
    column = next(c for c in table.columns if c.header == header)
    return list(column._cells)


def test_a_part_covered_row_is_never_best_and_says_why():
    rows = [
        result("a", "docs", "anls", 0.7, n=60, n_total=60),
        result("b", "docs", "anls", 0.6, n=60, n_total=60),
        result("c", "docs", "anls", 0.9, n=50, n_errors=10, n_total=60),  # highest, but over 50 of 60
    ]
    keys, _, _, best = score_grid(rows)
    assert {key[0] for key, _ in best} == {"a"}
    table = results_table(rows)
    scores = cell_texts(table, "anls ↑")
    assert "bold" in str(scores[0].style) and "bold" not in str(scores[2].style)
    text = render_with_caveats(rows)
    # 50/60 = 83.3%: the share is shown, floored, beside c's figure only
    assert "⚠83%" in text and "⚠83%" not in cell_texts(table, "anls ↑")[0].plain
    assert cell_texts(table, "n")[2].plain == "50/60" and cell_texts(table, "n")[0].plain == "60"
    assert "c on docs answered 50 of 60 samples (83%): 10 failed; not ranked" in text


def test_share_never_rounds_up_to_whole():
    row = result("c", "docs", "anls", 0.9, n=999, n_errors=1, n_total=1000)
    assert coverage_mark(row) == "⚠99%"
    assert coverage_mark(result("c", "docs", "anls", 0.9, n=1, n_errors=999, n_total=1000)) == "⚠<1%"
    assert coverage_mark(result("c", "docs", "anls", 0.9, n=10, n_total=10)) == ""


def test_no_answers_reads_as_such_and_does_not_break_the_ranking():
    rows = [
        result("a", "docs", "cer", 0.2, n=60, n_total=60, higher=False),
        result("b", "docs", "cer", 0.1, n=60, n_total=60, higher=False),
        result("dead", "docs", "cer", float("nan"), n=0, n_errors=60, n_total=60, higher=False),
    ]
    _, _, _, best = score_grid(rows)
    assert {key[0] for key, _ in best} == {"b"}  # lower is better; NaN takes no part
    table = results_table(rows)
    assert cell_texts(table, "cer ↓")[2].plain == "– no answers"
    assert format_score(rows[2]) == "–"
    assert "dead on docs: no answers to any of 60 samples (60 failed)" in render_with_caveats(rows)


def test_not_yet_predicted_samples_are_told_apart_from_failed_ones():
    row = result("c", "docs", "anls", 0.9, n=30, n_errors=5, n_total=60)
    text = render_with_caveats([row, result("a", "docs", "anls", 0.5, n=60, n_total=60)])
    assert "answered 30 of 60 samples (50%): 5 failed, 25 not yet predicted" in text


def test_one_complete_row_against_a_part_covered_one_is_not_best():
    rows = [result("a", "docs", "anls", 0.5, n=60, n_total=60),
            result("c", "docs", "anls", 0.9, n=50, n_errors=10, n_total=60)]
    assert score_grid(rows)[3] == set()  # best of one contender means nothing


def test_rows_of_old_results_files_count_as_complete():
    rows = [result("a", "docs", "anls", 0.5), result("b", "docs", "anls", 0.4)]  # no n_total, no coverage
    _, _, _, best = score_grid(rows)
    assert {key[0] for key, _ in best} == {"a"}
    text = render_with_caveats(rows)
    assert "⚠" not in text and "/" not in text.split("┃ n")[-1]


def test_overlapping_intervals_are_warned_once_per_column():
    rows = [
        result("tesseract-rus-eng", "synthetic-docs-ru", "cer", 0.10, ci=(0.08, 0.12), higher=False,
               n=60, n_total=60),
        result("tesseract-eng", "synthetic-docs-ru", "cer", 0.11, ci=(0.09, 0.13), higher=False,
               n=60, n_total=60),
        result("worst", "synthetic-docs-ru", "cer", 0.115, ci=(0.09, 0.14), higher=False, n=60, n_total=60),
        result("tesseract-rus-eng", "synthetic-docs-ru", "anls", 0.81, ci=(0.78, 0.84), n=60, n_total=60),
        result("tesseract-eng", "synthetic-docs-ru", "anls", 0.71, ci=(0.68, 0.74), n=60, n_total=60),
        result("worst", "synthetic-docs-ru", "anls", 0.70, ci=(0.60, 0.80), n=60, n_total=60),
    ]
    text = " ".join(render_with_caveats(rows, width=80).split())  # folded lines joined back
    assert text.count("cannot be told apart") == 1  # anls: 0.78–0.84 and 0.68–0.74 do not overlap
    assert ("⚠ synthetic-docs-ru cer: tesseract-rus-eng and tesseract-eng cannot be told apart at n=60 "
            "(intervals overlap); score more samples") in text


def test_no_overlap_warning_without_intervals_or_with_one_model():
    no_intervals = [result("a", "d", "anls", 0.5), result("b", "d", "anls", 0.5)]
    assert "told apart" not in render_with_caveats(no_intervals)
    assert "told apart" not in render_with_caveats([result("a", "d", "anls", 0.5, ci=(0.1, 0.9))])


def test_sampling_is_said_per_dataset():
    rows = [result("a", "docs", "anls", 0.5, n=100, n_total=100),
            result("b", "docs", "anls", 0.4, n=90, n_errors=10, n_total=100),
            result("a", "vqa", "anls", 0.5, n=20, n_total=20)]
    jobs = [JobSummary(job_id=f"{m}-docs", model_name=m, framework="transformers", dataset="docs",
                       state="done", n_samples=100, n_done=100, n_errors=0, selection="first 100 of 9,673")
            for m in "ab"]
    text = " ".join(render_with_caveats(rows, jobs).split())
    assert "docs — first 100 of 9,673; scored 90–100 of 100 per model" in text
    assert "vqa — selection not recorded; scored 20 of 20" in text


def test_a_typical_table_fits_80_columns_with_whole_names():
    models = ["tesseract-rus-eng", "tesseract-eng", "qwen2.5-vl-7b-instruct", "smolvlm-256m-instruct"]
    rows, jobs = [], []
    for dataset in ("synthetic-docs-ru", "easyvqa"):
        for rank, model in enumerate(models):
            part = rank == 2  # one model answered only part of its samples
            n, errors = (50, 10) if part else (60, 0)
            value = 0.8 - 0.01 * rank
            rows += [result(model, dataset, "cer", 1 - value, ci=(0.9 - value, 1.1 - value), higher=False,
                            n=n, n_errors=errors, n_total=60),
                     result(model, dataset, "anls", value, ci=(value - 0.1, value + 0.1),
                            n=n, n_errors=errors, n_total=60)]
            jobs.append(JobSummary(job_id=f"{model}-{dataset}", model_name=model, framework="transformers",
                                   dataset=dataset, state="done", n_samples=60, n_done=60, n_errors=errors,
                                   selection="60 of 9,673: seeded sample (seed 0), stratified by doc_class"))
    groups = results_tables(rows, jobs=jobs)
    assert [g.renderables[0].row_count for g in groups] == [4, 4]  # one table per dataset
    text = render_with_caveats(rows, jobs, width=80)
    lines = text.splitlines()
    assert max(map(len, lines)) <= 80
    assert "…" not in text  # nothing cut off
    for model in models:
        assert any(model in line for line in lines), model  # names whole, not folded
    assert "0.780 ± 0.100" in text and "⚠83%" in text and "50/60" in text
    joined = " ".join(text.split())
    said = "easyvqa — 60 of 9,673: seeded sample (seed 0), stratified by doc_class; scored 50–60 of 60"
    assert said in joined
    assert joined.count("cannot be told apart") == 4  # both metrics of both datasets


def test_jobs_table_shows_the_reason_a_job_failed_first():
    def job(error, **kw):
        fields = dict(job_id="c" * 20, model_name="m", framework="f", dataset="d", state="failed",
                      n_samples=60, n_done=60, n_errors=45)
        return JobSummary(**{**fields, **kw, "error": error})

    too_many = job("45 of 60 samples failed (more than 50% allowed); first: CUDA error: device-side assert\n"
                   "  File x.py, line 3\nRuntimeError: boom")
    assert error_headline(too_many) == ("45 of 60 samples failed (more than 50% allowed); first: "
                                        "CUDA error: device-side assert …")
    text = render(jobs_table([too_many]))
    assert "45 of 60 samples failed (more than 50% allowed)" in text and "File x.py" not in text
    traceback = job("45 of 60 samples failed; first: Traceback (most recent call last):\n"
                    '  File "m.py", line 9, in answer\nValueError: image too large')
    assert error_headline(traceback) == "45 of 60 samples failed; first: ValueError: image too large …"
    assert error_headline(job("\n\n  worker exited with code 1  \n")) == "worker exited with code 1"
    assert error_headline(job(None)) == "45 of 60 predicted samples failed"
    assert error_headline(job(None, state="done", n_errors=0)) == ""
    assert len(error_headline(job("x" * 500))) <= 162
