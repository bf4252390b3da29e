"""The comparison as rich tables for the terminal, each within 80 columns."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from vlmbench.compare.pairs import Comparison, MetricComparison
from vlmbench.compare.text import heading, interval, number, p_text
from vlmbench.metrics.aggregate import CI_LEVEL

NAME_WIDTH = 30


def ranking_table(table: MetricComparison) -> Table:
    out = Table(title=escape(heading(table)), header_style="bold", title_justify="left")
    out.add_column("rank", justify="right")
    out.add_column("model", overflow="fold", max_width=NAME_WIDTH)
    out.add_column("mean", justify="right")
    out.add_column("n", justify="right")
    for model in table.models:
        out.add_row(str(model.group), escape(model.label), number(model.mean), f"{model.n:,}")
    return out


def pairs_table(table: MetricComparison) -> Table:
    out = Table(header_style="bold")
    out.add_column("pair (first − second)", overflow="fold", max_width=NAME_WIDTH)
    out.add_column("diff", justify="right")
    out.add_column(f"{CI_LEVEL:.0%} CI", justify="right")
    out.add_column("p Holm", justify="right")
    out.add_column("", no_wrap=True)
    for pair in table.pairs:
        mark = "[green]significant[/]" if pair.significant else "[dim]n.s.[/]"
        out.add_row(f"{escape(pair.a)}\n− {escape(pair.b)}", number(pair.difference, signed=True),
                    interval(pair), p_text(pair.p_holm), mark)
    return out


def comparison_tables(comparison: Comparison) -> list[Table]:
    """Per dataset and metric: the grouped ranking, then every pair."""
    return [t for table in comparison.tables for t in (ranking_table(table), pairs_table(table))]
