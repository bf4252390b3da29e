"""Charts for the HTML report, each returned as a base64 PNG.

matplotlib is imported inside the functions (importing vlmbench.report
stays fast) and only through ``Figure`` + the Agg canvas: no pyplot, so no
global figure state and no display backend is ever touched.
"""

from __future__ import annotations

import base64
import io
import math
from typing import TYPE_CHECKING

from vlmbench.report.caveats import NO_ANSWERS, WARN, coverage_mark, has_ci, is_number
from vlmbench.report.cost import CostRow
from vlmbench.report.schema import JobSummary
from vlmbench.report.table import arrow
from vlmbench.rundir.records import ResultRow

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PALETTE = ["#3b6ea8", "#e0883e", "#4c9a6a", "#c4484e", "#7d6bb0", "#8c6d52", "#d17fb8", "#6f7780"]
INK, MUTED, GRID, WARN_INK = "#1f2933", "#616e7c", "#e4e7eb", "#9a6700"


def _figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _style(ax, grid_axis: str = "x") -> None:
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(GRID)
    ax.tick_params(colors=MUTED, labelsize=9, length=0)
    ax.grid(axis=grid_axis, color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)


def warm_fonts() -> None:
    """Draw a tiny chart with text and throw it away: loads matplotlib and the fonts every chart needs."""
    figure = _figure(1, 1)
    ax = figure.add_subplot()
    ax.set_title("0.0", fontsize=9, fontweight="bold")
    ax.text(0.5, 0.5, "0", fontsize=9)
    figure.canvas.draw()


def to_base64_png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", facecolor="white")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def metric_bars(rows: list[ResultRow], metric: str, labels: dict[str, str]) -> str | None:
    """Horizontal bars of one metric's overall score per model, one colour per dataset.

    ``labels`` maps job_id → the model's display name. Best model on top;
    whiskers are the 95% CI. A model that answered only part of its samples
    gets a hatched bar and its share (⚠83%); one that answered none, a label.
    """
    picked = [r for r in rows if r.metric == metric and r.aggregator == "general"]
    if not picked:
        return None
    higher = picked[0].higher_is_better
    datasets = list(dict.fromkeys(r.dataset for r in picked))
    models = list(dict.fromkeys(labels[r.job_id] for r in picked))
    sign = 1 if higher else -1

    def rank(model: str) -> tuple[int, float]:
        """Best first, but a model that answered part of its samples only below those that answered all."""
        own = [r for r in picked if labels[r.job_id] == model]
        values = [sign * r.value for r in own if is_number(r.value)]
        if not values:
            return 2, 0.0
        return (0 if all(r.complete for r in own) else 1), -sum(values) / len(values)

    # barh draws the first item at the bottom: best last, so that it is on top.
    models.sort(key=rank, reverse=True)
    figure = _figure(5.4, 1.0 + 0.36 * len(models) * max(1, len(datasets)))
    ax = figure.subplots()
    height = 0.8 / len(datasets)
    for d, dataset in enumerate(datasets):
        for m, model in enumerate(models):
            row = next((r for r in picked if r.dataset == dataset and labels[r.job_id] == model), None)
            if row is None:
                continue
            y = m - 0.4 + height * (d + 0.5)
            if not is_number(row.value):
                ax.text(0, y, f"  {NO_ANSWERS}", va="center", fontsize=8, color=MUTED)
                continue
            err = None
            if has_ci(row):
                err = [[row.value - row.ci_low], [row.ci_high - row.value]]
            ax.barh(y, row.value, height=height * 0.9, color=PALETTE[d % len(PALETTE)],
                    hatch=None if row.complete else "////", edgecolor="white", linewidth=0,
                    xerr=err, error_kw={"ecolor": INK, "elinewidth": 0.8, "capsize": 2},
                    label=dataset if m == 0 or len(models) == 1 else None)  # fmt: skip
            mark = coverage_mark(row)
            ax.text(row.ci_high if err else row.value, y, f"  {row.value:.3f}" + (f" {mark}" if mark else ""),
                    va="center", fontsize=8, color=WARN_INK if mark else INK)  # fmt: skip
    ax.set_yticks(range(len(models)), models, fontsize=9, color=INK)
    largest = max((r.ci_high if has_ci(r) else r.value for r in picked if is_number(r.value)), default=0.0)
    # Scores live on [0, 1], and a fixed axis keeps them honest; error rates
    # are often tiny, so their axis follows the data.
    ax.set_xlim(0, max(1.0, largest * 1.15) if higher else max(0.05, largest * 1.3))
    ax.set_title(f"{metric} {arrow(higher)}", loc="left", fontsize=11, color=INK, fontweight="bold")
    _style(ax)
    if len(datasets) > 1:
        handles, names = ax.get_legend_handles_labels()
        unique = dict(zip(names, handles))
        # Below the axes, where it can never cover a bar or its label.
        ax.legend(unique.values(), unique.keys(), frameon=False, fontsize=8, loc="upper center",
                  bbox_to_anchor=(0.5, -0.12), ncols=min(len(unique), 3))  # fmt: skip
    return to_base64_png(figure)


def doc_class_heatmap(rows: list[ResultRow], metric: str, dataset: str, labels: dict[str, str]) -> str | None:
    """Model × doc_class grid of one metric on one dataset; darker is always better."""
    picked = [r for r in rows if (r.metric, r.dataset, r.aggregator) == (metric, dataset, "by_doc_type")]
    classes = sorted({r.group for r in picked})
    models = list(dict.fromkeys(labels[r.job_id] for r in picked))
    if len(classes) * len(models) < 2 or classes == ["unknown"]:
        return None  # one cell compares nothing; the score table already shows it
    import numpy as np

    grid = np.full((len(models), len(classes)), np.nan)
    partial = np.zeros(grid.shape, dtype=bool)  # answered only part of the class: ⚠ after the figure
    for r in picked:
        grid[models.index(labels[r.job_id]), classes.index(r.group)] = r.value
        partial[models.index(labels[r.job_id]), classes.index(r.group)] = not r.complete
    higher = picked[0].higher_is_better
    top = max(1.0, float(np.nanmax(grid))) if np.isfinite(grid).any() else 1.0
    figure = _figure(min(11.0, max(5.4, 2.6 + 0.95 * len(classes))), 1.1 + 0.42 * len(models))
    ax = figure.subplots()
    image = ax.imshow(grid, cmap="YlGnBu" if higher else "YlGnBu_r", vmin=0, vmax=top, aspect="auto")
    for i in range(len(models)):
        for j in range(len(classes)):
            if np.isfinite(grid[i, j]):
                shade = image.cmap(image.norm(grid[i, j]))
                light = 0.299 * shade[0] + 0.587 * shade[1] + 0.114 * shade[2] > 0.55
                figure_text = f"{grid[i, j]:.2f}" + (WARN if partial[i, j] else "")
                ax.text(j, i, figure_text, ha="center", va="center", fontsize=8,
                        color=INK if light else "white")  # fmt: skip
    crowded = len(classes) > 4 or max(map(len, classes)) > 12
    ax.set_xticks(range(len(classes)), classes, rotation=30 if crowded else 0,
                  ha="right" if crowded else "center")  # fmt: skip
    ax.set_yticks(range(len(models)), models)
    ax.tick_params(labelsize=9, length=0, colors=INK)
    for spine in ax.spines.values():
        spine.set_visible(False)
    title = f"{metric} {arrow(higher)} · {dataset}"
    ax.set_title(title, loc="left", fontsize=11, color=INK, fontweight="bold")
    figure.colorbar(image, ax=ax, shrink=0.8, pad=0.02).outline.set_visible(False)
    return to_base64_png(figure)


def latency_chart(jobs: list[JobSummary], labels: dict[str, str]) -> str | None:
    """Throughput (samples/s) and per-sample latency (mean bar, p95 tick) per job."""
    timed = [j for j in jobs if j.samples_per_s or j.mean_latency_s]
    if not timed:
        return None
    several = len({j.dataset for j in timed}) > 1
    names = [labels.get(j.job_id, j.model_name) + (f" · {j.dataset}" if several else "") for j in timed]
    figure = _figure(10.0, 1.1 + 0.34 * len(timed))
    left, right = figure.subplots(1, 2, sharey=True)
    ys = range(len(timed))
    rates = [j.samples_per_s or 0 for j in timed]
    latencies = [j.mean_latency_s or 0 for j in timed]
    left.barh(ys, rates, color=PALETTE[0], height=0.6)
    right.barh(ys, latencies, color=PALETTE[1], height=0.6, label="mean")
    # OCR at 4 samples/s beside a baseline at 2,000: on a linear axis the slow bars vanish.
    for ax, values in ((left, rates), (right, latencies)):
        positive = [v for v in values if v > 0]
        if positive and max(positive) / min(positive) > 50:
            ax.set_xscale("log")
    p95 = [(y, j.p95_latency_s) for y, j in zip(ys, timed) if j.p95_latency_s is not None]
    if p95:
        xs, ys95 = [v for _, v in p95], [y for y, _ in p95]
        right.scatter(xs, ys95, marker="|", s=160, color=INK, label="p95", zorder=3)
        right.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    left.set_yticks(list(ys), names, fontsize=9, color=INK)
    left.invert_yaxis()
    scale = " (log)" if left.get_xscale() == "log" else ""
    left.set_title(f"throughput, samples/s{scale} ↑", loc="left", fontsize=11, color=INK, fontweight="bold")
    right.set_title(f"latency per sample, s{' (log)' if right.get_xscale() == 'log' else ''} ↓", loc="left", fontsize=11, color=INK, fontweight="bold")
    _style(left)
    _style(right)
    return to_base64_png(figure)


def quality_vs_throughput(rows: list[CostRow]) -> str | None:
    """Per dataset, each job's headline score against its throughput (log), the Pareto front joined.

    A job on the front is filled and named in bold: no other job on that
    dataset is at least as fast and as good. Up is always better: the axis
    of an error rate is turned over. Datasets with one job are left out.
    """
    placed = [r for r in rows if r.quality is not None and r.samples_per_s]
    # A dataset with one job has nothing to weigh it against: the cost table says all there is.
    datasets = [d for d in dict.fromkeys(r.dataset for r in placed) if sum(r.dataset == d for r in placed) > 1]
    placed = [r for r in placed if r.dataset in datasets]
    if not placed:
        return None
    from matplotlib.ticker import FuncFormatter, NullFormatter

    columns = min(len(datasets), 2)
    lines = math.ceil(len(datasets) / columns)
    figure = _figure(5.2 * columns, 3.3 * lines)
    axes = figure.subplots(lines, columns, squeeze=False).ravel()
    for ax in axes[len(datasets):]:
        ax.set_visible(False)
    for ax, dataset in zip(axes, datasets):
        own = [r for r in placed if r.dataset == dataset]
        higher = own[0].higher_is_better
        front = sorted((r for r in own if r.pareto), key=lambda r: r.samples_per_s or 0)
        if len(front) > 1:
            ax.plot([r.samples_per_s for r in front], [r.quality for r in front], color=PALETTE[0],
                    linewidth=1.4, linestyle="--", zorder=2, label="Pareto front")
        for r in own:
            ax.scatter([r.samples_per_s], [r.quality], s=70, zorder=3, linewidths=1.6,
                       color=PALETTE[0] if r.pareto else "white", edgecolors=PALETTE[0] if r.pareto else MUTED)
            ax.annotate(r.model, (r.samples_per_s, r.quality), xytext=(7, 4), textcoords="offset points",
                        fontsize=8, color=INK if r.pareto else MUTED, fontweight="bold" if r.pareto else "normal")
        ax.set_xscale("log")
        # Plain numbers at the decades only: minor labels (2×10², 3×10²...) crowd one another.
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        speeds = [r.samples_per_s for r in own if r.samples_per_s]
        ax.set_xlim(min(speeds) / 2.5, max(speeds) * 4)  # room for the names to the right
        values = [r.quality for r in own if r.quality is not None]
        low, high = min(values), max(values)
        pad = max((high - low) * 0.15, 0.05)
        ax.set_ylim(low - pad, high + pad)
        if not higher:
            ax.invert_yaxis()
        ax.set_xlabel("throughput, samples/s (log) →", fontsize=9, color=MUTED)
        ax.set_ylabel(f"{own[0].metric} {arrow(higher)}", fontsize=9, color=MUTED)
        ax.set_title(dataset, loc="left", fontsize=11, color=INK, fontweight="bold")
        _style(ax, grid_axis="both")
        ax.spines["left"].set_visible(True)
        ax.spines["left"].set_color(GRID)
    return to_base64_png(figure)
