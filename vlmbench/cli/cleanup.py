"""`vlmbench cleanup [RUN_DIR]`: remove what a killed run left behind."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vlmbench.cli.console import console


def cleanup(
    run_dir: Annotated[Path | None, typer.Argument(
        metavar="RUN_DIR", help="The run directory of a killed run. Without it: every vlmbench container on the Docker Engine "
             "whose run is no longer held, with its run's other leftovers.")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Take over a lock recorded by a process on another host, which this host cannot check: only "
             "once you know that process is gone. A lock a live process holds here is never taken.")] = False,
) -> None:
    """Stop and remove what a killed run left: containers, Slurm jobs, workers, "running" statuses, temp files,
    its lock. Refuses a run directory that a live process holds.

    Example: vlmbench cleanup runs/demo
    """
    from rich.markup import escape
    from rich.table import Table

    from vlmbench.cleanup import clean_orphans, clean_run

    actions = clean_run(run_dir, force=force) if run_dir is not None else clean_orphans()
    terminal = console()
    if not actions:
        where = run_dir if run_dir is not None else "the Docker Engine (no vlmbench container)"
        terminal.print(f"nothing to clean in {escape(str(where))}")
        return
    title = f"cleanup of {run_dir}" if run_dir is not None else "cleanup of vlmbench containers"
    table = Table(title=escape(title), header_style="bold")
    for column in ("what", "which", "done", *(() if run_dir is not None else ("run directory",))):
        table.add_column(column, overflow="fold")
    for action in actions:
        row = [action.kind, escape(action.target), escape(action.outcome)]
        table.add_row(*row, *(() if run_dir is not None else (escape(action.run_dir or "—"),)))
    terminal.print(table)


def register(app: typer.Typer) -> None:
    app.command(name="cleanup", short_help="Remove what a killed run left behind.")(cleanup)
