"""`vlmbench export RUN_DIR --format vlmhyperbench`: a run's answers and metrics in a peer's layout."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vlmbench.cli.console import console

OutOption = Annotated[Path | None, typer.Option(
    metavar="DIR", help="Folder to write into.  [default: RUN_DIR/FORMAT, e.g. runs/demo/vlmhyperbench]")]


def export(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="A run directory written by `vlmbench run`.")],
    format_name: Annotated[str, typer.Option("--format", metavar="FORMAT", help="The peer layout: vlmhyperbench.")],
    out: OutOption = None,
) -> None:
    """Write a run's answers and metrics as a peer's pipeline writes them, so its tools read them.

    Example: vlmbench export runs/demo --format vlmhyperbench
    """
    from rich.markup import escape

    from vlmbench.export import export_run

    result = export_run(run_dir, format_name, out)
    terminal = console()
    for path in result.files:
        terminal.print(escape(str(path)))
    for note in result.notes:
        terminal.print(f"[yellow]note:[/] {escape(note)}")


def register(app: typer.Typer) -> None:
    app.command(name="export", short_help="A run's answers and metrics in a peer's layout.")(export)
