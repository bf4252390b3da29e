"""`vlmbench status RUN_DIR` and `vlmbench cancel RUN_DIR`: a run seen and stopped from another shell."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vlmbench.cli.console import console

RunDirArg = Annotated[Path, typer.Argument(metavar="RUN_DIR", help="A run directory written by `vlmbench run`.")]
STATE_STYLE = {"done": "green", "failed": "red", "interrupted": "yellow", "running": "cyan", "pending": "dim"}


def status(run_dir: RunDirArg) -> None:
    """Show where each job of a run (and each shard) stands: state, progress, where it runs, why it failed.

    Example: vlmbench status runs/demo
    """
    from rich.markup import escape
    from rich.table import Table

    from vlmbench.runstatus import run_state

    state = run_state(run_dir)
    holder = f"run now by {state.holder.describe()}" if state.holder else "no vlmbench process runs it now"
    table = Table(title=escape(f"{state.run_id} ({state.executor}): {holder}"), header_style="bold")
    table.add_column("job", overflow="fold", max_width=30)
    table.add_column("state")
    table.add_column("done", justify="right")
    table.add_column("where / why", overflow="fold")
    for worker in state.workers:
        name = f"  └ shard {worker.shard}" if worker.shard else f"{worker.job_id}\n[dim]{escape(worker.label)}[/]"
        style = STATE_STYLE.get(worker.state, "white")
        table.add_row(name, f"[{style}]{worker.state}[/]", f"{worker.done:,}/{worker.total:,}",
                      escape(worker.where or worker.reason))
    console().print(table)


def cancel(run_dir: RunDirArg) -> None:
    """Stop a run from another shell: the `vlmbench run` holding it stops as on Ctrl-C; Slurm jobs left
    running (or left by a killed run) are cancelled. The same `vlmbench run` again resumes.

    Example: vlmbench cancel runs/demo
    """
    from rich.markup import escape

    from vlmbench.runstatus import cancel_run

    console().print(escape(cancel_run(run_dir)))


def register(app: typer.Typer) -> None:
    app.command(name="status", short_help="Where each job of a run stands, from another shell.")(status)
    app.command(name="cancel", short_help="Stop a run from another shell (as Ctrl-C does).")(cancel)
