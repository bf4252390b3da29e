"""report.md and report.html: files, tables, embedded charts, escaping."""

from __future__ import annotations

import base64
import re
import subprocess
import sys

import pytest

from vlmbench.datasets.schema import Sample
from vlmbench.metrics import ResultRow, score_job
from vlmbench.report import JobSummary, render_report, summarize_job
from vlmbench.rundir import RunDir
from vlmbench.rundir.records import JobStatus, Prediction

MODELS = [
    ("qwen2-vl-2b", "transformers", 0.9),
    ("smolvlm", "transformers", 0.6),
    ("<script>x</script>", "vllm", 0.3),
]


def write_report(run_dir, results, jobs, title):
    """The report's two files, as a run writes them."""
    run = RunDir(run_dir)
    run.write_report(*render_report(results, jobs, title=title))
    return run.report_md, run.report_html


@pytest.fixture(scope="module")
def run():
    samples = [
        Sample(id=f"s{i}", question="total?", answer=f"{100 + i}", doc_class=["invoice", "receipt"][i % 2],
               question_type="field")
        for i in range(20)
    ]
    results, jobs = [], []
    for rank, (model, framework, skill) in enumerate(MODELS):
        predictions = [
            Prediction(id=s.id, prompt="p", answer=s.answer if i / 20 < skill else "nope",
                       latency_s=0.2 * (rank + 1))
            for i, s in enumerate(samples)
        ]
        job_id = f"job{rank}"
        results += score_job(samples, predictions, ["anls", "cer"], ["general", "by_doc_type"], job_id=job_id,
                             model_name=model, framework=framework, dataset="docs", task=None).rows
        failed = rank == 2
        status = JobStatus(state="failed" if failed else "done", n_samples=20, wall_s=5.0 * (rank + 1),
                           error="CUDA error: device-side assert" if failed else None)
        jobs.append(summarize_job(job_id, model, framework, "docs", None, status, predictions))
    return results, jobs


def test_report_files_with_tables_and_charts(tmp_path, run):
    results, jobs = run
    md_path, html_path = write_report(tmp_path, results, jobs, title="Nightly & docs")
    assert md_path == tmp_path / "report.md" and html_path == tmp_path / "report.html"
    html = html_path.read_text(encoding="utf-8")
    assert "<title>Nightly &amp; docs</title>" in html
    assert html.count("<table") >= 2  # scores and jobs
    assert "anls <span" in html and "cer <span" in html
    images = re.findall(r'<img [^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    # a bar chart and a heatmap per metric, the latency chart and quality against throughput
    assert len(images) == 6
    assert all(base64.b64decode(image)[:8] == b"\x89PNG\r\n\x1a\n" for image in images)
    assert "<link" not in html and "<script src" not in html  # self-contained


def test_failures_are_highlighted_and_names_escaped(tmp_path, run):
    results, jobs = run
    _, html_path = write_report(tmp_path, results, jobs, title="t")
    html = html_path.read_text(encoding="utf-8")
    assert '<tr class="failed">' in html and "CUDA error: device-side assert" in html
    assert "<script>x</script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html


def test_markdown_tables(tmp_path, run):
    results, jobs = run
    md = write_report(tmp_path, results, jobs, title="Nightly")[0].read_text(encoding="utf-8")
    assert md.startswith("# Nightly")
    assert "| model | anls ↑ | cer ↓ | n | errors |" in md
    assert "| qwen2-vl-2b | **0.9" in md  # the best model is bold
    assert "### docs: anls ↑" in md and "| model | invoice | receipt |" in md
    assert "**failed**" in md and "CUDA error" in md
    for line in md.splitlines():
        if line.startswith("|"):
            assert line.endswith("|"), line


def test_report_without_results(tmp_path):
    status = JobStatus(state="failed", n_samples=3, error="model weights not found")
    jobs = [summarize_job("j", "m", "f", "d", None, status, [])]
    md_path, html_path = write_report(tmp_path, [], jobs, title="Empty")
    assert "No scores" in html_path.read_text() and "No scores" in md_path.read_text()
    assert "model weights not found" in html_path.read_text()


def test_importing_report_does_not_load_matplotlib_or_jinja():
    code = (
        "import sys, vlmbench.report;"
        "print([m for m in ('matplotlib', 'jinja2', 'pandas') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_single_cell_heatmaps_are_left_out(tmp_path):
    samples = [Sample(id=f"s{i}", question="q", answer="a", doc_class="invoice") for i in range(4)]
    predictions = [Prediction(id=s.id, prompt="p", answer="a", latency_s=0.1) for s in samples]
    results = score_job(samples, predictions, ["anls"], ["general", "by_doc_type"], job_id="j",
                        model_name="m", framework="f", dataset="d", task=None).rows
    jobs = [summarize_job("j", "m", "f", "d", None, JobStatus(state="done", wall_s=1.0), predictions)]
    html = write_report(tmp_path, results, jobs, title="one")[1].read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 2  # the anls bars and the latency chart
    assert "best model on each dataset" not in html  # nothing to compare with one model


# --- caveats in the report: part-covered rows, sampling, overlapping intervals, failed jobs ---------------


def row(model, value, *, metric="anls", n=60, errors=0, total=60, ci=0.05, aggregator="general", group="all",
        higher=True):
    return ResultRow(job_id=f"job-{model}", model_name=model, framework="transformers", dataset="docs",
                     metric=metric, aggregator=aggregator, group=group, value=value, n=n, n_errors=errors,
                     n_total=total, coverage=n / total, higher_is_better=higher,
                     ci_low=value - ci if value == value else None,
                     ci_high=value + ci if value == value else None)


@pytest.fixture()
def caveat_run():
    results = [
        row("a", 0.70), row("b", 0.68),  # intervals 0.65–0.75 and 0.63–0.73 overlap
        row("c", 0.90, n=50, errors=10),  # the highest figure, over 50 of 60 samples
        row("dead", float("nan"), n=0, errors=60),
        row("a", 0.70, aggregator="by_doc_type", group="invoice", total=30, n=30),
        row("b", 0.60, aggregator="by_doc_type", group="invoice", total=30, n=30),
        row("c", 0.95, aggregator="by_doc_type", group="invoice", total=30, n=20, errors=10),
        row("a", 0.50, aggregator="by_doc_type", group="receipt", total=30, n=30),
        row("b", 0.40, aggregator="by_doc_type", group="receipt", total=30, n=30),
    ]
    jobs = [
        JobSummary(job_id=f"job-{m}", model_name=m, framework="transformers", dataset="docs", state="done",
                   n_samples=60, n_done=60, n_errors=e, selection="first 60 of 9,673")
        for m, e in (("a", 0), ("b", 0), ("c", 10))
    ]
    jobs.append(JobSummary(
        job_id="job-dead", model_name="dead", framework="transformers", dataset="docs", state="failed",
        n_samples=60, n_done=60, n_errors=60, selection="first 60 of 9,673",
        error="60 of 60 samples failed (more than 50% allowed); first: CUDA error: device-side assert\n"
              "  File model.py, line 3\nRuntimeError: device-side assert"))
    return results, jobs


def test_markdown_says_the_caveats(tmp_path, caveat_run):
    md = write_report(tmp_path, *caveat_run, title="t")[0].read_text(encoding="utf-8")
    assert "| a | **0.700 ± 0.050** | 60 | 0 |" in md  # best among those that answered everything
    assert "| c | 0.900 ± 0.050 ⚠83% | 50/60 | 10 |" in md  # highest, not bold, share shown
    assert "| dead | – no answers | 0/60 | 60 |" in md
    assert "- ⚠ c on docs answered 50 of 60 samples (83%): 10 failed; not ranked" in md
    assert "- ⚠ dead on docs: no answers to any of 60 samples (60 failed)" in md
    assert ("- ⚠ docs anls: a and b cannot be told apart at n=60 (intervals overlap); score more samples"
            in md)
    assert "- Samples: docs — first 60 of 9,673; scored 0–60 of 60 per model" in md
    # by document class: the part-covered cell is marked and not bold; a wins invoice among the rest
    assert "| a | **0.700 ± 0.050** | **0.500 ± 0.050** |" in md
    assert "| c | 0.950 ± 0.050 ⚠66% | – |" in md
    # the failed job: the reason first, the whole error under it
    assert ("- `job-dead` dead on docs: **60 of 60 samples failed (more than 50% allowed); first: "
            "CUDA error: device-side assert …**") in md
    assert "  ```text\n  60 of 60 samples failed" in md and "  RuntimeError: device-side assert\n  ```" in md
    for line in md.splitlines():
        if line.startswith("|"):
            assert line.endswith("|"), line


def test_html_says_the_caveats(tmp_path, caveat_run):
    html = write_report(tmp_path, *caveat_run, title="t")[1].read_text(encoding="utf-8")
    assert '<span class="cov" title="share of the planned samples answered; not ranked">⚠83%</span>' in html
    scores = html[html.index('<table class="scores">'):html.index("</table>")]
    assert scores.count(" best") == 1  # only a's figure
    assert '<li class="warn">⚠ docs anls: a and b cannot be told apart at n=60' in html
    sampling = "Samples: docs — first 60 of 9,673; scored 0–60 of 60 per model"
    assert f'<li class="sampling">{sampling}</li>' in html
    assert "Hatched bars (c) answered only part of their samples" in html  # dead has no bar at all
    assert "<pre><strong>60 of 60 samples failed (more than 50% allowed)" in html
    assert "RuntimeError: device-side assert</pre>" in html
    assert "<link" not in html and "<script src" not in html


def test_part_covered_bars_are_hatched_and_placed_after(monkeypatch, caveat_run):
    from vlmbench.report import plots

    figures = []
    monkeypatch.setattr(plots, "to_base64_png", lambda figure: figures.append(figure) or "png")
    results, _ = caveat_run
    labels = {r.job_id: r.model_name for r in results}
    assert plots.metric_bars(results, "anls", labels) == "png"
    ax = figures[0].axes[0]
    bars = [p for p in ax.patches if p.get_width() > 0]
    hatched = {round(p.get_width(), 3): p.get_hatch() for p in bars}
    assert hatched == {0.7: None, 0.68: None, 0.9: "////"}
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert names == ["dead", "c", "b", "a"]  # bottom to top: best on top, part-covered below, no answers last
    texts = [t.get_text() for t in ax.texts]
    assert "  0.900 ⚠83%" in texts and "  no answers" in texts
    assert plots.doc_class_heatmap(results, "anls", "docs", labels) == "png"
    cells = [t.get_text() for t in figures[1].axes[0].texts]
    assert "0.95⚠" in cells and "0.70" in cells


def test_old_results_without_coverage_read_as_before(tmp_path):
    results = [row("a", 0.7, ci=0.01).model_copy(update={"n_total": None, "coverage": None}),
               row("b", 0.5, ci=0.01).model_copy(update={"n_total": None, "coverage": None})]
    md = write_report(tmp_path, results, [], title="t")[0].read_text(encoding="utf-8")
    assert "| a | **0.700 ± 0.010** | 60 | 0 |" in md and "⚠ " not in md and "told apart" not in md
    assert "- Samples: docs — selection not recorded; scored 60 per model" in md


def test_the_legend_of_marks_appears_only_when_a_figure_is_marked(tmp_path, caveat_run):
    results, jobs = caveat_run
    legend = "⚠83% marks a figure over 83% of the planned samples"
    md = write_report(tmp_path, results, jobs, title="t")[0].read_text(encoding="utf-8")
    assert legend in md
    whole = [r for r in results if r.model_name in ("a", "b")]
    md, html = (p.read_text(encoding="utf-8") for p in write_report(tmp_path, whole, jobs[:2], title="t"))
    assert legend not in md and legend not in html and "Hatched" not in html
