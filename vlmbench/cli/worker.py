"""`vlmbench worker JOB_FILE [--shard I/K]`: the container entrypoint, also used locally and on Slurm."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def worker(
    job: Annotated[Path, typer.Argument(
        metavar="JOB_FILE", help="The job file written by the host (job.json, container-job.json).")],
    shard: Annotated[str | None, typer.Option(
        metavar="INDEX/COUNT", help="Answer only this shard of the job's samples, e.g. 1/2.")] = None,
) -> None:
    """Run one job: predictions.jsonl and status.json land beside the job file (in shards/, for a shard).

    Example: vlmbench worker runs/demo/jobs/3f2a9c1d/job.json --shard 1/2
    """
    from vlmbench.shards import Shard
    from vlmbench.worker import run_worker_and_exit

    run_worker_and_exit(job, Shard.parse(shard) if shard else None)  # ends the process once the status is durable


def register(app: typer.Typer) -> None:
    app.command(name="worker", short_help="Run one job file (the container entrypoint).")(worker)
