"""report.md and report.html: files, tables, embedded charts, escaping."""

from __future__ import annotations

import base64
import re
import subprocess
import sys

import pytest

from vlmbench.datasets.schema import Sample
from vlmbench.jobfiles import JobStatus, Prediction
from vlmbench.metrics import score_job
from vlmbench.report import summarize_job, write_report

MODELS = [
    ("qwen2-vl-2b", "transformers", 0.9),
    ("smolvlm", "transformers", 0.6),
    ("<script>x</script>", "vllm", 0.3),
]


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
    # a bar chart and a heatmap per metric, and the latency chart
    assert len(images) == 5
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
