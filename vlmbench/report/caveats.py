"""What a reader must know beside the numbers, as plain text for every report.

Three things can make a score table say more than its data: a model that
answered only part of its samples (its figure speaks for that part only,
so it is never crowned best), a sample of the dataset rather than all of it
(said per dataset, with how the samples were chosen), and intervals too
wide to tell the top two models apart (said per column). The terminal
table, report.md and report.html all print these same sentences.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from vlmbench.report.schema import JobSummary
from vlmbench.rundir.records import ResultRow

WARN = "⚠"
NO_ANSWERS = "no answers"

GridKey = tuple[str, str, str, str | None, str]  # model, framework, dataset, task, group
Cells = dict[tuple[GridKey, str], ResultRow]


def is_number(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def has_ci(row: ResultRow) -> bool:
    return is_number(row.ci_low) and is_number(row.ci_high)


def contends(row: ResultRow) -> bool:
    """Whether a row may be ranked: it has a value and speaks for every planned sample of its group."""
    return is_number(row.value) and row.complete


def percent(coverage: float) -> str:
    """A share that is below 1 never reads as "100%" (floor, not round); a sliver reads "<1%"."""
    whole = math.floor(coverage * 100)
    return "<1%" if whole == 0 and coverage > 0 else f"{whole}%"


def coverage_mark(row: ResultRow) -> str:
    """``⚠83%`` beside the figure of a row that answered only part of its group; "" otherwise."""
    if row.complete or not is_number(row.value):
        return ""
    return f"{WARN}{percent(row.coverage or 0.0)}"


def counts(row: ResultRow) -> str:
    """``n`` alone, or ``n/n_total`` when part of the group was not scored."""
    if row.n_total is not None and row.n_total != row.n:
        return f"{row.n}/{row.n_total}"
    return str(row.n)


def _where(dataset: str, task: str | None, group: str = "all") -> str:
    where = dataset + (f" / {task}" if task else "")
    return where + (f" [{group}]" if group != "all" else "")


def _missing_parts(row: ResultRow) -> str:
    parts = []
    if row.n_errors:
        parts.append(f"{row.n_errors} failed")
    if row.n_total is not None and (pending := row.n_total - row.n - row.n_errors) > 0:
        parts.append(f"{pending} not yet predicted")
    return ", ".join(parts)


def coverage_note(label: str, row: ResultRow) -> str | None:
    """Why a row's figure is marked, or None when it speaks for its whole group.

    ``⚠ tesseract-eng on docs answered 50 of 60 samples (83%): 10 failed; not ranked``
    """
    where = _where(row.dataset, row.task, row.group)
    missing = _missing_parts(row)
    if not is_number(row.value):
        of = f" to any of {row.n_total} samples" if row.n_total is not None else ""
        return f"{WARN} {label} on {where}: {NO_ANSWERS}{of}" + (f" ({missing})" if missing else "")
    if row.complete:
        return None
    answered = f"answered {row.n} of {row.n_total} samples ({percent(row.coverage or 0.0)})"
    return f"{WARN} {label} on {where} {answered}" + (f": {missing}" if missing else "") + "; not ranked"


def coverage_notes(keys: Iterable[GridKey], metrics: Iterable[str], cells: Cells,
                   label: Callable[[GridKey], str]) -> list[str]:
    """One note per grid row whose figures do not cover every planned sample (its least covered cell)."""
    metrics = list(metrics)
    notes = []
    for key in keys:
        rows = [cells[(key, m)] for m in metrics if (key, m) in cells]
        flagged = [r for r in rows if not contends(r)]
        if flagged:
            worst = min(flagged, key=lambda r: (is_number(r.value), r.coverage or 0.0))
            if note := coverage_note(label(key), worst):
                notes.append(note)
    return notes


def best_cells(keys: list[GridKey], metrics: Iterable[str], cells: Cells) -> set[tuple[GridKey, str]]:
    """The best cell(s) of each (dataset, task, group) column of each metric; ties all win.

    Only rows that contend are ranked (a figure over part of the samples is
    not comparable), and a column needs two of them: best of one means nothing.
    """
    best: set[tuple[GridKey, str]] = set()
    for metric in metrics:
        for column in _columns(keys, metric, cells).values():
            if len(column) < 2:
                continue
            top = column[0][1]
            best.update((key, metric) for key, row in column if _signed(row) == _signed(top))
    return best


def _signed(row: ResultRow) -> float:
    return row.value if row.higher_is_better else -row.value


def _columns(keys: list[GridKey], metric: str, cells: Cells) -> dict[tuple, list[tuple[GridKey, ResultRow]]]:
    """(dataset, task, group) → its contending cells of ``metric``, best first."""
    columns: dict[tuple, list[tuple[GridKey, ResultRow]]] = {}
    for key in keys:
        row = cells.get((key, metric))
        if row is not None and contends(row):
            columns.setdefault(key[2:], []).append((key, row))
    for column in columns.values():
        column.sort(key=lambda item: -_signed(item[1]))
    return columns


def overlap_warnings(keys: list[GridKey], metrics: Iterable[str], cells: Cells,
                     label: Callable[[GridKey], str]) -> list[str]:
    """One line per column whose best and runner-up have overlapping 95% intervals.

    Such a ranking may be chance: the reader should not pick a model on it.
    """
    warnings = []
    for metric in metrics:
        for (dataset, task, group), column in _columns(keys, metric, cells).items():
            if len(column) < 2:
                continue
            (top_key, top), (next_key, runner) = column[0], column[1]
            if not (has_ci(top) and has_ci(runner)):
                continue
            if top.ci_low <= runner.ci_high and runner.ci_low <= top.ci_high:  # type: ignore[operator]
                at = f"n={top.n}" if top.n == runner.n else f"n={top.n} and n={runner.n}"
                warnings.append(
                    f"{WARN} {_where(dataset, task, group)} {metric}: {label(top_key)} and {label(next_key)} "
                    f"cannot be told apart at {at} (intervals overlap); score more samples"
                )
    return warnings


def sampling_lines(rows: Iterable[ResultRow], jobs: Iterable[JobSummary] | None = None) -> list[str]:
    """Per dataset: how its samples were chosen and how many of them each model's figures rest on.

    ``docs — first 60 of 9,673; scored 50–60 of 60 per model``
    """
    per_job: dict[str, tuple[str, int, int | None]] = {}  # job → dataset, scored, planned
    for row in rows:
        if row.aggregator != "general":
            continue
        _, scored, planned = per_job.get(row.job_id, (row.dataset, 0, None))
        total = row.n_total if planned is None else max(planned, row.n_total or 0)
        per_job[row.job_id] = (row.dataset, max(scored, row.n), total)
    selections: dict[str, list[str]] = {}
    for job in jobs or []:
        chosen = selections.setdefault(job.dataset, [])
        if job.selection and job.selection not in chosen:
            chosen.append(job.selection)
        if job.job_id not in per_job:  # a job with nothing scored still planned its samples
            per_job[job.job_id] = (job.dataset, 0, job.n_samples or None)
    datasets = list(dict.fromkeys([*(d for d, _, _ in per_job.values()), *selections]))
    lines = []
    for dataset in datasets:
        figures = [(scored, planned) for d, scored, planned in per_job.values() if d == dataset]
        chosen = "; ".join(selections.get(dataset, [])) or "selection not recorded"
        lines.append(f"{dataset} — {chosen}" + (f"; {_scored(figures)}" if figures else ""))
    return lines


def _span(values: list[int]) -> str:
    low, high = min(values), max(values)
    return f"{low:,}" if low == high else f"{low:,}–{high:,}"


def _scored(figures: list[tuple[int, int | None]]) -> str:
    scored = _span([s for s, _ in figures])
    planned = [p for _, p in figures if p is not None]
    each = " per model" if len(figures) > 1 else ""
    return f"scored {scored} of {_span(planned)}{each}" if planned else f"scored {scored}{each}"
