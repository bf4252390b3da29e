"""`vlmbench compare RUN_DIR...`: every pair of models on the same samples, with intervals and significance."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vlmbench.cli.console import console


def compare(
    run_dirs: Annotated[list[Path], typer.Argument(help="Run directories written by `vlmbench run`.",
                                                   metavar="RUN_DIR")],
    models: Annotated[str | None, typer.Option(
        "--models", metavar="NAMES", help="Only these models, comma-separated (default: every model).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Compare models sample by sample: each pair's mean difference with its 95% paired bootstrap CI and a
    Holm-corrected p-value (McNemar's exact test for 0/1 metrics such as accuracy, a sign-flip permutation
    test otherwise), and a ranking whose groups hold models not significantly different from the group's best.
    Runs made at different times compare when they scored the same samples.

    Example: vlmbench compare runs/demo --models easyvqa-tiny,majority-easy-vqa

    Example: vlmbench compare runs/june runs/july --json
    """
    from rich.markup import escape

    from vlmbench.compare import compare_runs
    from vlmbench.compare.tables import comparison_tables

    names = [name.strip() for name in (models or "").split(",") if name.strip()]
    comparison = compare_runs(run_dirs, names)
    if as_json:
        typer.echo(comparison.model_dump_json(indent=2))
        return
    terminal = console()
    for table in comparison_tables(comparison):
        terminal.print(table)
    for job in comparison.unscored:
        terminal.print(f"[yellow]note:[/] job {escape(job)} has no scores (not run or not evaluated): left out")


def register(app: typer.Typer) -> None:
    app.command(name="compare")(compare)
