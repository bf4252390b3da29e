"""Rich tables for the terminal: scores per model, and how each job went.

The formatting helpers here are shared with the Markdown/HTML report so
that a number reads the same in every place it appears.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Group
from rich.table import Table
from rich.text import Text

from vlmbench.metrics.aggregate import resolve_aggregator
from vlmbench.report.caveats import (
    NO_ANSWERS,
    GridKey,
    best_cells,
    counts,
    coverage_mark,
    coverage_notes,
    has_ci,
    is_number,
    overlap_warnings,
    sampling_lines,
)
from vlmbench.report.schema import JobSummary
from vlmbench.rundir.records import ResultRow

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
    """``0.873 ± 0.012``: the value and the half-width of its 95% CI, if any; "–" for no answers."""
    if not is_number(row.value):
        return "–"
    text = f"{row.value:.3f}"
    if has_ci(row):
        text += f" ± {(row.ci_high - row.ci_low) / 2:.3f}"  # type: ignore[operator]
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


def score_grid(
    rows: Iterable[ResultRow], aggregator: str = "general"
) -> tuple[list[GridKey], dict[str, bool], dict[tuple[GridKey, str], ResultRow], set[tuple[GridKey, str]]]:
    """Rows of one aggregator arranged as a grid.

    Returns ``(keys, metrics, cells, best)``: keys are (model, framework,
    dataset, task, group) in first-seen order, metrics map name → higher
    is better, cells map (key, metric) → row, and best holds the cells
    that are the best of their (dataset, task, group) column among the
    rows that answered every planned sample (see :func:`caveats.best_cells`).
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
    return list(keys), metrics, cells, best_cells(list(keys), metrics, cells)


def results_table(rows: list[ResultRow], aggregator: str = "general") -> Table:
    """One row per (model, dataset, task[, group]), one column per metric, best in bold.

    A row that answered only part of its samples shows its share (⚠83%)
    and is never bold; print :func:`results_caveats` under the table to say
    why (:func:`results_tables` does both).
    """
    keys, metrics, cells, best = score_grid(rows, aggregator)
    name = resolve_aggregator(aggregator)
    show_framework = len({k[1] for k in keys}) > 1
    show_task = any(k[3] for k in keys)
    datasets = list(dict.fromkeys(k[2] for k in keys))
    # One dataset goes in the title: its column would repeat one name and cost an
    # 80-column terminal the width that the model names need.
    show_dataset = len(datasets) != 1
    title = Text(f"Scores{'' if show_dataset else f' on {datasets[0]}'} ({name}, 95% CI)")
    # As wide as its title at least, so that a table of two short names does not fold it.
    table = Table(title=title, header_style="bold", min_width=len(title) + 2)
    # Names fold rather than end in "…": a truncated model name hides which model it is.
    table.add_column("model", style="cyan", overflow="fold")
    if show_framework:
        table.add_column("framework", overflow="fold")
    if show_dataset:
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
        cells_text += [Text(dataset)] if show_dataset else []
        cells_text += [Text(task or "")] if show_task else []
        cells_text += [Text(group)] if name != "general" else []
        for metric in metrics:
            cell = cells.get((key, metric))
            cells_text.append(_score_text(cell, (key, metric) in best))
        present = [c for c in (cells.get((key, m)) for m in metrics) if c is not None]
        cells_text.append(Text(counts(max(present, key=lambda c: (c.n, c.n_total or 0))) if present else "0"))
        table.add_row(*cells_text)
    return table


def results_caveats(
    rows: list[ResultRow], aggregator: str = "general", jobs: list[JobSummary] | None = None
) -> Text:
    """What to print under :func:`results_table` (see :mod:`vlmbench.report.caveats`), one line each.

    Rows that answered part of their samples and why, columns whose top two
    intervals overlap, and per dataset how its samples were chosen (from
    ``jobs``' selection) and how many were scored. Lines fold at the
    console's width; nothing is cut.
    """
    keys, metrics, cells, _ = score_grid(rows, aggregator)
    several_frameworks = len({k[1] for k in keys}) > 1

    def label(key: GridKey) -> str:
        return f"{key[0]} ({key[1]})" if several_frameworks else key[0]

    lines = [(note, "yellow") for note in coverage_notes(keys, metrics, cells, label)]
    lines += [(warning, "yellow") for warning in overlap_warnings(keys, metrics, cells, label)]
    lines += [(line, "dim") for line in sampling_lines(rows, jobs)]
    caveats = Text(overflow="fold")
    for number, (line, style) in enumerate(lines):
        caveats.append(("\n" if number else "") + line, style=style)
    return caveats


def results_tables(
    rows: list[ResultRow], aggregator: str = "general", jobs: list[JobSummary] | None = None
) -> list[Group]:
    """Per dataset, in first-seen order: its :func:`results_table` (its own metrics), caveats under it."""
    groups = []
    for dataset in dict.fromkeys(r.dataset for r in rows):
        picked = [r for r in rows if r.dataset == dataset]
        own_jobs = None if jobs is None else [j for j in jobs if j.dataset == dataset]
        caveats = results_caveats(picked, aggregator, own_jobs)
        groups.append(Group(results_table(picked, aggregator), *([caveats] if caveats.plain else [])))
    return groups


def _score_text(cell: ResultRow | None, best: bool) -> Text:
    """The figure, bold when best; a part-covered one gets its share on a second line (narrow columns)."""
    if cell is None:
        return Text("–", style="dim")
    if not is_number(cell.value):
        return Text(f"– {NO_ANSWERS}", style="dim")
    text = Text(format_score(cell), style="bold green" if best else "")
    if mark := coverage_mark(cell):
        text.append(f"\n{mark}", style="yellow")
    return text


TRACEBACK = "Traceback (most recent call last):"


def error_headline(job: JobSummary, limit: int = 160) -> str:
    """The one line of a job's error that says why it failed: its first non-blank line.

    That is where the worker puts the reason ("45 of 60 samples failed (more
    than 50% allowed); first: <the first sample's error>"). A Python
    traceback's header says nothing, so the traceback's last line (the
    exception) stands in for it. A failed job without an error of its own
    whose samples failed says how many did. "…" marks what is left out.
    """
    lines = [line.strip() for line in (job.error or "").splitlines() if line.strip()]
    headline = lines[0] if lines else ""
    before, traceback, _ = headline.partition(TRACEBACK)
    if traceback and len(lines) > 1:
        headline = before + lines[-1]
    more = len(lines) > 1
    if len(headline) > limit:
        headline, more = headline[: limit - 1].rstrip(), True
    headline += " …" if more else ""
    if job.oom and "memory" not in headline.lower():
        headline = f"out of memory. {headline}".strip()
    if not headline and job.state == "failed" and job.n_errors:
        headline = f"{job.n_errors} of {job.n_done} predicted samples failed"
    return headline


def _short_rate(rate: float | None) -> str:
    """Three significant figures or so: two rates stacked in a narrow column."""
    if rate is None or rate < 100:
        return format_rate(rate)
    return f"{rate:.0f}"


def _samples_cell(job: JobSummary) -> Text:
    """Samples answered of planned; below, in red, how many of them failed (nothing when none did)."""
    cell = Text(f"{job.n_done}/{job.n_samples}")
    if job.n_errors:
        cell.append(f"\n{job.n_errors} failed", style="red")
    return cell


def jobs_table(jobs: list[JobSummary]) -> Table:
    """One row per job: state (coloured), progress and failed samples, model load and wall time, speed
    while predicting and over the whole job, latency, and why it failed."""
    show_framework = len({j.framework for j in jobs}) > 1
    table = Table(title="Jobs", header_style="bold",
                  caption="rate: samples/s while predicting, and (over the whole job, loading included)")
    # One folding "job" column (model, dataset, id, then the error on its own
    # line) keeps names readable in an 80-column terminal, where separate
    # columns would be squeezed to nothing; for the same reason failed samples
    # and the whole job's rate sit under the figure they qualify.
    table.add_column("job", overflow="fold", min_width=16)
    table.add_column("state", no_wrap=True)
    for column in ("samples", "load", "wall", "rate", "latency"):
        table.add_column(column, justify="right", no_wrap=True)
    for job in jobs:
        error = error_headline(job)
        name = Text(job.model_name, style="cyan")
        if show_framework:
            name.append(f" ({job.framework})", style="dim")
        # The dataset on a line of its own: a name is broken at a line's end only when longer than the column.
        name.append(f"\n{job.dataset}" + (f" / {job.task}" if job.task else ""))
        name.append(f" {job.job_id[:8]}", style="dim")
        if error:
            name.append(f"\n{error}", style="red")
        table.add_row(
            name,
            Text(job.state, style=STATE_STYLES.get(job.state, "")),
            _samples_cell(job),
            Text(format_seconds(job.model_load_s)),
            Text(format_seconds(job.wall_s)),
            Text.assemble(_short_rate(job.predict_samples_per_s), "\n",
                          (f"({_short_rate(job.samples_per_s)})", "dim")),
            Text(format_seconds(job.mean_latency_s)),
        )
    return table
