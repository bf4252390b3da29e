"""report.md and report.html of a run, from its results rows and job summaries.

The HTML is one self-contained file (inline CSS, charts as base64 PNG) so it
can be mailed or attached to a ticket; the Markdown holds the same tables
for reading in a terminal or a merge request.
"""

from __future__ import annotations

import functools
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vlmbench.report.caveats import (
    NO_ANSWERS,
    GridKey,
    contends,
    counts,
    coverage_mark,
    coverage_notes,
    is_number,
    overlap_warnings,
    sampling_lines,
)
from vlmbench.report.cost import PRICE_VARIABLE, cost_rows, format_cost, format_memory
from vlmbench.report.schema import JobSummary
from vlmbench.report.table import arrow, error_headline, format_rate, format_score, format_seconds, score_grid
from vlmbench.rundir.records import ResultRow, RunRecord

if TYPE_CHECKING:
    from vlmbench.report.cost import CostRow
    from vlmbench.report.samples import JobSamples

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


def _grid(results: list[ResultRow], aggregator: str, labels: dict[str, str],
          jobs: list[JobSummary] | None = None) -> dict[str, Any]:
    """A score table as plain data for both templates, with the caveats printed under it."""
    keys, metrics, cells, best = score_grid(results, aggregator)
    job_of = {(r.model_name, r.framework): r.job_id for r in results}

    def label(key: GridKey) -> str:
        return labels.get(job_of.get(key[:2], ""), key[0])

    body = []
    for key in keys:
        row_cells = [cells.get((key, m)) for m in metrics]
        present = [c for c in row_cells if c is not None]
        body.append(
            {
                "model": label(key),
                "dataset": key[2],
                "task": key[3] or "",
                "group": key[4],
                "n": counts(max(present, key=lambda c: (c.n, c.n_total or 0))) if present else "0",
                "errors": max((c.n_errors for c in present), default=0),
                "cells": [_cell(c, (key, m) in best) for m, c in zip(metrics, row_cells)],
            }
        )
    header = [{"name": m, "arrow": arrow(h), "higher": h} for m, h in metrics.items()]
    return {
        "metrics": header,
        "rows": body,
        "has_task": any(r["task"] for r in body),
        "coverage": coverage_notes(keys, metrics, cells, label),
        "overlaps": overlap_warnings(keys, metrics, cells, label),
        "sampling": sampling_lines(results, jobs),
    }


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
        # As in the score table: only cells that answered their whole class compete, and two at least.
        contenders = {c: [sign * r.value for r in rows if r.group == c and contends(r)] for c in classes}
        best = {c: max(values) for c, values in contenders.items() if len(values) > 1}

        def is_best(model: str, doc_class: str) -> bool:
            found = cell.get((model, doc_class))
            return found is not None and contends(found) and sign * found.value == best.get(doc_class)

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
    """One figure for the templates: ``text`` whole (Markdown), the rest in parts (HTML)."""
    if row is None:
        return {"text": "–", "value": "–", "ci": "", "mark": "", "best": False, "missing": True}
    if not is_number(row.value):
        return {"text": f"– {NO_ANSWERS}", "value": "–", "ci": NO_ANSWERS, "mark": "", "best": False,
                "missing": True}
    score = format_score(row)
    value, _, ci = score.partition(" ± ")
    mark = coverage_mark(row)
    return {"text": f"{score} {mark}".strip(), "value": value, "ci": f"± {ci}" if ci else "", "mark": mark,
            "best": best, "missing": False}


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


ERROR_LINES = 40  # of a job's error in the report; status.json keeps all of it


def _job_error(job: JobSummary) -> str:
    """The job's error as status.json has it, its first lines if it is long."""
    error = (job.error or "").strip("\n")
    if job.oom and "memory" not in error.lower():
        error = f"out of memory. {error}".strip()
    lines = error.splitlines()
    if len(lines) > ERROR_LINES:
        more = f"… {len(lines) - ERROR_LINES} more line(s) in status.json"
        error = "\n".join([*lines[:ERROR_LINES], more])
    return error


def _job_rows(jobs: list[JobSummary], labels: dict[str, str]) -> list[dict[str, Any]]:
    rows = [
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
            "headline": error_headline(j),
            "detail": _job_error(j),
            "failed": j.state in ("failed", "interrupted") or j.oom,
        }
        for j in jobs
    ]
    for row in rows:  # the whole error only where the headline leaves some of it out
        if row["detail"] == row["headline"]:
            row["detail"] = ""
    return rows


def _cost_table(rows: list[CostRow], price: float | None) -> list[dict[str, Any]]:
    return [
        {
            "model": r.model,
            "dataset": r.dataset,
            "answered": r.answered,
            "rate": format_rate(r.samples_per_s),
            "p50": format_seconds(r.p50_latency_s),
            "p95": format_seconds(r.p95_latency_s),
            "tokens": "–" if r.tokens_per_s is None else f"{r.tokens_per_s:,.1f}",
            "memory": format_memory(r.peak_gpu_memory_mb),
            "cost": format_cost(r.cost_per_1k, price),
            "quality": "–" if r.quality is None else f"{r.quality:.3f}",
            "metric": r.metric or "",
            "arrow": arrow(r.higher_is_better) if r.metric else "",
            "pareto": r.pareto,
        }
        for r in rows
    ]


def build_context(
    results: list[ResultRow], jobs: list[JobSummary], title: str, charts: bool,
    samples: list[JobSamples] | None = None, gpu_price: float | None = None,
) -> dict[str, Any]:
    """Everything both templates show; ``charts=False`` skips matplotlib (for tests and tools).

    ``samples`` feed the sample browser (none without them); ``gpu_price``
    (currency per GPU-hour) the cost per 1,000 samples.
    """
    labels = model_labels(results, jobs)
    costs = cost_rows(results, jobs, labels, gpu_price)
    metrics = list(dict.fromkeys(r.metric for r in results))
    context: dict[str, Any] = {
        "title": title,
        "generated": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        # One table per dataset: each shows only the metrics its samples were scored with.
        "summary": [
            {"dataset": d, **_grid([r for r in results if r.dataset == d], "general", labels,
                                   [j for j in jobs if j.dataset == d])}
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
            "samples": sum(j.n_done - j.n_errors for j in jobs),
            "errors": sum(j.n_errors for j in jobs),
        },
        # Who answered only part of their samples: hatched in the bar charts, starred in the heatmaps.
        "partial": list(dict.fromkeys(
            labels.get(r.job_id, r.model_name) for r in results
            if r.aggregator == "general" and not r.complete and is_number(r.value)
        )),
        "partial_rows": any(r.aggregator == "general" and not r.complete for r in results),
        "partial_classes": any(r.aggregator == "by_doc_type" and not r.complete for r in results),
        "bars": [],
        "heatmaps": [],
        "latency": None,
        "cost": _cost_table(costs, gpu_price),
        "gpu_price": None if gpu_price is None else f"{gpu_price:g}",
        "price_variable": PRICE_VARIABLE,
        "pareto": None,
        "browsers": [],
        "browser_limit": 0,
    }
    if samples:
        from vlmbench.report.samples import MAX_PER_DATASET, sample_browsers

        context["browsers"] = sample_browsers(samples, results, labels)
        context["browser_limit"] = MAX_PER_DATASET
    if charts:
        from vlmbench.report import plots

        for metric in metrics:
            if image := plots.metric_bars(results, metric, labels):
                context["bars"].append({"metric": metric, "image": image})
        for dataset, metric in dict.fromkeys((r.dataset, r.metric) for r in results):
            if image := plots.doc_class_heatmap(results, metric, dataset, labels):
                context["heatmaps"].append({"metric": f"{metric} on {dataset}", "image": image})
        context["latency"] = plots.latency_chart(jobs, labels)
        context["pareto"] = plots.quality_vs_throughput(costs)
    return context


@functools.cache  # one per process: each template is compiled once, by the first report or by the warm-up
def _environment() -> Any:
    import jinja2

    from vlmbench.compare import text as compare_text
    from vlmbench.report.provenance import code_span, fence

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html.j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,  # a typo in a template fails the tests, not the reader
    )
    environment.filters.update(
        md=lambda text: str(text).replace("|", "\\|").replace("\n", " "),
        oneline=lambda text: " ".join(str(text).split()),
        fence=fence, code_span=code_span,
        number=compare_text.number, interval=compare_text.interval, p_text=compare_text.p_text,
        heading=compare_text.heading, verdict=compare_text.verdict, explanation=compare_text.explanation,
    )
    return environment


def compile_templates() -> None:
    """Compile every template of the report ahead of its first use (vlmbench.warmup does, while jobs run)."""
    environment = _environment()
    for template in sorted(TEMPLATES.glob("*.j2")):
        environment.get_template(template.name)


def render_pair(name: str, context: dict[str, Any]) -> tuple[str, str]:
    """``name``.md.j2 and ``name``.html.j2 rendered with ``context``: the report, or one of its sections alone."""
    environment = _environment()
    return (environment.get_template(f"{name}.md.j2").render(context),
            environment.get_template(f"{name}.html.j2").render(context))


def render_report(results: list[ResultRow], jobs: list[JobSummary], title: str,
                  samples: list[JobSamples] | None = None, gpu_price: float | None = None,
                  record: RunRecord | None = None) -> tuple[str, str]:
    """report.md and report.html, as text (vlmbench.rundir.RunDir writes them).

    With ``samples``, the paired comparison of the models their job folders hold comes before the jobs
    table (vlmbench.compare); with the run's ``record`` (run.json), the provenance section ends the
    report (vlmbench.report.provenance).
    """
    context = build_context(results, jobs, title, charts=True, samples=samples, gpu_price=gpu_price)
    context["comparison"] = None
    if samples:
        from vlmbench.compare import jobs_comparison

        context["comparison"] = jobs_comparison([job.files for job in samples])
    context["provenance"] = None
    if record is not None:
        from vlmbench.report.provenance import provenance_context

        context["provenance"] = provenance_context(record)
    return render_pair("report", context)
