"""Rich tables for the terminal: scores per model, and how each job went.

The formatting helpers here are shared with the Markdown/HTML report so
that a number reads the same in every place it appears.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table
from rich.text import Text

from vlmbench.metrics.aggregate import resolve_aggregator
from vlmbench.metrics.schema import ResultRow
from vlmbench.report.schema import JobSummary

STATE_STYLES = {
    "done": "green",
    "failed": "bold red",
    "interrupted": "magenta",
    "running": "yellow",
    "pending": "dim",
}


def arrow(higher_is_better: bool) -> str:
    return "↑" if higher_is_better else "↓"


def format_score(row: ResultRow) -> str:
    """``0.873 ± 0.012``: the value and the half-width of its 95% CI, if any."""
    text = f"{row.value:.3f}"
    if row.ci_low is not None and row.ci_high is not None:
        text += f" ± {(row.ci_high - row.ci_low) / 2:.3f}"
    return text


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def format_rate(rate: float | None) -> str:
    return "–" if rate is None else f"{rate:.2f}"


GridKey = tuple[str, str, str, str | None, str]  # model, framework, dataset, task, group


def score_grid(
    rows: Iterable[ResultRow], aggregator: str = "general"
) -> tuple[list[GridKey], dict[str, bool], dict[tuple[GridKey, str], ResultRow], set[tuple[GridKey, str]]]:
    """Rows of one aggregator arranged as a grid.

    Returns ``(keys, metrics, cells, best)``: keys are (model, framework,
    dataset, task, group) in first-seen order, metrics map name → higher
    is better, cells map (key, metric) → row, and best holds the cells
    that are the best of their (dataset, task, group) column.
    """
    name = resolve_aggregator(aggregator)
    keys: dict[GridKey, None] = {}
    metrics: dict[str, bool] = {}
    cells: dict[tuple[GridKey, str], ResultRow] = {}
    for row in rows:
        if row.aggregator != name:
            continue
        key = (row.model_name, row.framework, row.dataset, row.task, row.group)
        keys.setdefault(key)
        metrics.setdefault(row.metric, row.higher_is_better)
        cells[(key, row.metric)] = row
    best: set[tuple[GridKey, str]] = set()
    if len({k[:2] for k in keys}) < 2:  # "best" means nothing with one model
        return list(keys), metrics, cells, best
    for metric, higher in metrics.items():
        sign = 1 if higher else -1
        # (dataset, task, group) → best signed value; ties all win
        top: dict[tuple[str, str | None, str], float] = {}
        for key in keys:
            cell = cells.get((key, metric))
            if cell is not None and cell.value == cell.value:  # skip missing and NaN
                top[key[2:]] = max(top.get(key[2:], float("-inf")), sign * cell.value)
        best.update(
            (key, metric)
            for key in keys
            if (key, metric) in cells and sign * cells[(key, metric)].value == top.get(key[2:])
        )
    return list(keys), metrics, cells, best


def results_table(rows: list[ResultRow], aggregator: str = "general") -> Table:
    """One row per (model, dataset, task[, group]), one column per metric, best in bold."""
    keys, metrics, cells, best = score_grid(rows, aggregator)
    name = resolve_aggregator(aggregator)
    show_framework = len({k[1] for k in keys}) > 1
    show_task = any(k[3] for k in keys)
    table = Table(title=f"Scores ({name}, 95% CI)", header_style="bold")
    # Names fold rather than end in "…": a truncated model name hides which model it is.
    table.add_column("model", style="cyan", overflow="fold")
    if show_framework:
        table.add_column("framework", overflow="fold")
    table.add_column("dataset", overflow="fold")
    if show_task:
        table.add_column("task", overflow="fold")
    if name != "general":
        table.add_column("group", overflow="fold")
    for metric, higher in metrics.items():
        table.add_column(f"{metric} {arrow(higher)}", justify="right", no_wrap=True)
    table.add_column("n", justify="right", style="dim", no_wrap=True)
    for key in keys:
        model, framework, dataset, task, group = key
        # Text, not str: a name like "[x]" must not be read as rich markup.
        cells_text = [Text(model)]
        cells_text += [Text(framework)] if show_framework else []
        cells_text.append(Text(dataset))
        cells_text += [Text(task or "")] if show_task else []
        cells_text += [Text(group)] if name != "general" else []
        n = 0
        for metric in metrics:
            cell = cells.get((key, metric))
            n = max(n, cell.n if cell else 0)
            style = "bold green" if (key, metric) in best else ""
            cells_text.append(Text(format_score(cell), style=style) if cell else Text("–", style="dim"))
        cells_text.append(Text(str(n)))
        table.add_row(*cells_text)
    return table


def jobs_table(jobs: list[JobSummary]) -> Table:
    """One row per job: state (coloured), progress, errors, wall time, speed, and why it failed."""
    show_framework = len({j.framework for j in jobs}) > 1
    table = Table(title="Jobs", header_style="bold")
    # One folding "job" column (model, dataset, id, then the error on its own
    # line) keeps names readable in an 80-column terminal, where separate
    # columns would be squeezed to nothing.
    table.add_column("job", overflow="fold", min_width=16)
    table.add_column("state", no_wrap=True)
    for column in ("samples", "errors", "wall", "samples/s", "latency"):
        table.add_column(column, justify="right", no_wrap=True)
    for job in jobs:
        error = (job.error or "").splitlines()[0][:120] if job.error else ""
        if job.oom and "memory" not in error.lower():
            error = f"out of memory. {error}".strip()
        name = Text(job.model_name, style="cyan")
        if show_framework:
            name.append(f" ({job.framework})", style="dim")
        name.append(f" · {job.dataset}" + (f" / {job.task}" if job.task else ""))
        name.append(f" {job.job_id[:8]}", style="dim")
        if error:
            name.append(f"\n{error}", style="red")
        table.add_row(
            name,
            Text(job.state, style=STATE_STYLES.get(job.state, "")),
            Text(f"{job.n_done}/{job.n_samples}"),
            Text(str(job.n_errors), style="red" if job.n_errors else "dim"),
            Text(format_seconds(job.wall_s)),
            Text(format_rate(job.samples_per_s)),
            Text(format_seconds(job.mean_latency_s)),
        )
    return table
