"""`vlmbench worker JOB.json`: the container entrypoint, also used locally."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def worker(job: Annotated[Path, typer.Argument(help="job.json written by the host")]) -> None:
    """Run one job: predictions.jsonl and status.json land beside JOB.json."""
    from vlmbench.worker import run_worker

    raise typer.Exit(run_worker(job))


def register(app: typer.Typer) -> None:
    app.command(name="worker")(worker)
