"""report.md and report.html of a run, from its results rows and job summaries.

The HTML is one self-contained file (inline CSS, charts as base64 PNG) so it
can be mailed or attached to a ticket; the Markdown holds the same tables
for reading in a terminal or a merge request.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from vlmbench.fileio import write_atomic
from vlmbench.metrics.schema import ResultRow
from vlmbench.report.schema import JobSummary
from vlmbench.report.table import arrow, format_rate, format_score, format_seconds, score_grid

TEMPLATES = Path(__file__).parent / "templates"


def model_labels(results: list[ResultRow], jobs: list[JobSummary]) -> dict[str, str]:
    """job_id → display name: the model name, plus the framework when one model ran on several."""
    owners = {r.job_id: (r.model_name, r.framework) for r in results}
    owners.update({j.job_id: (j.model_name, j.framework) for j in jobs})
    frameworks: dict[str, set[str]] = {}
    for model, framework in owners.values():
        frameworks.setdefault(model, set()).add(framework)
    return {
        job: model if len(frameworks[model]) == 1 else f"{model} ({framework})"
        for job, (model, framework) in owners.items()
    }


def _grid(results: list[ResultRow], aggregator: str, labels: dict[str, str]) -> dict[str, Any]:
    """A score table as plain data for both templates."""
    keys, metrics, cells, best = score_grid(results, aggregator)
    job_of = {(r.model_name, r.framework): r.job_id for r in results}
    body = []
    for key in keys:
        row_cells = [cells.get((key, m)) for m in metrics]
        body.append(
            {
                "model": labels.get(job_of.get(key[:2], ""), key[0]),
                "dataset": key[2],
                "task": key[3] or "",
                "group": key[4],
                "n": max((c.n for c in row_cells if c), default=0),
                "errors": max((c.n_errors for c in row_cells if c), default=0),
                "cells": [_cell(c, (key, m) in best) for m, c in zip(metrics, row_cells)],
            }
        )
    header = [{"name": m, "arrow": arrow(h), "higher": h} for m, h in metrics.items()]
    return {"metrics": header, "rows": body, "has_task": any(r["task"] for r in body)}


def _doc_tables(results: list[ResultRow], labels: dict[str, str]) -> list[dict[str, Any]]:
    """Per (dataset, metric): model × doc_class, the heatmap as a table."""
    picked = [r for r in results if r.aggregator == "by_doc_type"]
    tables = []
    for dataset, metric in dict.fromkeys((r.dataset, r.metric) for r in picked):
        rows = [r for r in picked if r.dataset == dataset and r.metric == metric]
        classes = sorted({r.group for r in rows})
        models = list(dict.fromkeys(labels.get(r.job_id, r.model_name) for r in rows))
        cell = {(labels.get(r.job_id, r.model_name), r.group): r for r in rows}
        higher = rows[0].higher_is_better
        sign = 1 if higher else -1
        best = {c: max(sign * cell[m, c].value for m in models if (m, c) in cell) for c in classes}

        def is_best(model: str, doc_class: str) -> bool:
            found = cell.get((model, doc_class))
            return len(models) > 1 and found is not None and sign * found.value == best[doc_class]

        tables.append(
            {
                "dataset": dataset,
                "metric": metric,
                "arrow": arrow(higher),
                "classes": classes,
                "rows": [
                    {
                        "model": m,
                        "cells": [_cell(cell.get((m, c)), is_best(m, c)) for c in classes],
                    }
                    for m in models
                ],
            }
        )
    return tables


def _cell(row: ResultRow | None, best: bool) -> dict[str, Any]:
    if row is None:
        return {"text": "–", "value": "–", "ci": "", "best": False, "missing": True}
    text = format_score(row)
    value, _, ci = text.partition(" ± ")
    return {"text": text, "value": value, "ci": f"± {ci}" if ci else "", "best": best, "missing": False}


def _metric_notes(names: list[str]) -> list[dict[str, str]]:
    from vlmbench.metrics import MetricError, get_metric

    notes = []
    for name in names:
        try:
            spec = get_metric(name)
        except MetricError:
            continue  # a metric from a plugin that is not installed here
        notes.append({"name": name, "arrow": arrow(spec.higher_is_better), "description": spec.description})
    return notes


def _job_error(job: JobSummary) -> str:
    error = job.error or ""
    if job.oom and "memory" not in error.lower():
        error = f"out of memory. {error}".strip()
    return error


def _job_rows(jobs: list[JobSummary], labels: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "id": j.job_id[:12],
            "model": labels.get(j.job_id, j.model_name),
            "framework": j.framework,
            "dataset": j.dataset + (f" / {j.task}" if j.task else ""),
            "state": j.state,
            "progress": f"{j.n_done}/{j.n_samples}",
            "errors": j.n_errors,
            "wall": format_seconds(j.wall_s),
            "rate": format_rate(j.samples_per_s),
            "latency": format_seconds(j.mean_latency_s),
            "p95": format_seconds(j.p95_latency_s),
            "error": _job_error(j),
            "failed": j.state in ("failed", "interrupted") or j.oom,
        }
        for j in jobs
    ]


def build_context(
    results: list[ResultRow], jobs: list[JobSummary], title: str, charts: bool
) -> dict[str, Any]:
    """Everything both templates show; ``charts=False`` skips matplotlib (for tests and tools)."""
    labels = model_labels(results, jobs)
    metrics = list(dict.fromkeys(r.metric for r in results))
    context: dict[str, Any] = {
        "title": title,
        "generated": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        # One table per dataset: each shows only the metrics its samples were scored with.
        "summary": [
            {"dataset": d, **_grid([r for r in results if r.dataset == d], "general", labels)}
            for d in dict.fromkeys(r.dataset for r in results)
        ],
        "by_doc": _doc_tables(results, labels),
        "notes": _metric_notes(metrics),
        "jobs": _job_rows(jobs, labels),
        "stats": {
            "models": len(set(labels.values())),
            "datasets": len({r.dataset for r in results} | {j.dataset for j in jobs}),
            "jobs": len(jobs),
            "failed": sum(j.state in ("failed", "interrupted") for j in jobs),
            "samples": sum(j.n_done for j in jobs),
            "errors": sum(j.n_errors for j in jobs),
        },
        "bars": [],
        "heatmaps": [],
        "latency": None,
    }
    if charts:
        from vlmbench.report import plots

        for metric in metrics:
            if image := plots.metric_bars(results, metric, labels):
                context["bars"].append({"metric": metric, "image": image})
        for dataset, metric in dict.fromkeys((r.dataset, r.metric) for r in results):
            if image := plots.doc_class_heatmap(results, metric, dataset, labels):
                context["heatmaps"].append({"metric": f"{metric} on {dataset}", "image": image})
        context["latency"] = plots.latency_chart(jobs, labels)
    return context


def write_report(
    run_dir: Path, results: list[ResultRow], jobs: list[JobSummary], title: str
) -> tuple[Path, Path]:
    """Write ``run_dir/report.md`` and ``run_dir/report.html``; return their paths."""
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html.j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,  # a typo in a template fails the tests, not the reader
    )
    environment.filters["md"] = lambda text: str(text).replace("|", "\\|").replace("\n", " ")
    context = build_context(results, jobs, title, charts=True)
    run_dir = Path(run_dir)
    md_path, html_path = run_dir / "report.md", run_dir / "report.html"
    write_atomic(md_path, environment.get_template("report.md.j2").render(context))
    write_atomic(html_path, environment.get_template("report.html.j2").render(context))
    return md_path, html_path
