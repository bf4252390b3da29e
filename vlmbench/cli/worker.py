"""`vlmbench worker JOB_FILE [--shard I/K]`: the container entrypoint, also used locally and on Slurm."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def worker(
    job: Annotated[Path, typer.Argument(help="The job file written by the host (job.json, container-job.json).")],
    shard: Annotated[str | None, typer.Option(
        metavar="INDEX/COUNT", help="Answer only this shard of the job's samples, e.g. 1/2.")] = None,
) -> None:
    """Run one job: predictions.jsonl and status.json land beside the job file (in shards/, for a shard).

    Example: vlmbench worker out/jobs/3f2a9c1d/job.json --shard 1/2
    """
    from vlmbench.shards import Shard
    from vlmbench.worker import run_worker

    raise typer.Exit(run_worker(job, Shard.parse(shard) if shard else None))


def register(app: typer.Typer) -> None:
    app.command(name="worker")(worker)
