"""`vlmbench export RUN_DIR --format vlmhyperbench`: a run's answers and metrics in a peer's layout."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from vlmbench.cli.console import console

OutOption = Annotated[Path | None, typer.Option(help="Folder to write into (default: a folder named after the format in RUN_DIR).")]


def export(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by `vlmbench run`.")],
    format_name: Annotated[str, typer.Option("--format", help="The peer layout: vlmhyperbench.")],
    out: OutOption = None,
) -> None:
    """Write a run's answers and metrics as a peer's pipeline writes them, so its tools read them."""
    from vlmbench.export import export_run

    result = export_run(run_dir, format_name, out)
    terminal = console()
    for path in result.files:
        terminal.print(escape(str(path)))
    for note in result.notes:
        terminal.print(f"[yellow]note:[/] {escape(note)}")


def register(app: typer.Typer) -> None:
    app.command(name="export")(export)
