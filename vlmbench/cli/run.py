"""`vlmbench run`, `validate`, `evaluate` and `report`."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vlmbench.cli.console import console
from vlmbench.cli.models import CatalogOption

if TYPE_CHECKING:
    from rich.table import Table

    from vlmbench.runner import RunOptions

ConfigArg = Annotated[Path, typer.Argument(metavar="CONFIG", help="Run CSV: one row per job.")]
RunDirArg = Annotated[Path, typer.Argument(metavar="RUN_DIR", help="A run directory written by `vlmbench run`.")]
# How samples are chosen: the same options, read the same way, in `run` and `validate`.
LimitOption = Annotated[int | None, typer.Option(min=1, metavar="N", help="The first N samples per job.")]
SampleOption = Annotated[str | None, typer.Option(
    metavar="N", help="A seeded random sample of N per job, stratified by doc_class, in dataset order "
                      "(with --limit: at most the smaller of the two).")]
SeedOption = Annotated[str | None, typer.Option(metavar="S", help="The seed of --sample (0 when not given).")]
DataRootOption = Annotated[Path | None, typer.Option(
    metavar="DIR", help="Where bare dataset, prompt_collection and system_prompt names are found, in "
                        "VLMHyperBench's layout (Datasets/, PromptCollections/, SystemPrompts/); "
                        "default: $VLMBENCH_DATA_ROOT.")]


def _whole_number(value: str | None, option: str, minimum: int, maximum: int | None = None) -> int | None:
    """An option's integer, or one line naming the option (typer's own error is a box)."""
    from vlmbench.errors import ConfigError

    if value is None:
        return None
    try:
        number = int(value.strip())
    except ValueError:
        number = None
    if number is None or number < minimum or (maximum is not None and number > maximum):
        bounds = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"
        raise ConfigError(f"{option} must be a whole number {bounds}, got {value!r}")
    return number




# What a service manager (SIGTERM), a closed terminal or ssh session (SIGHUP) sends: each stops the run as
# Ctrl-C does (workers stopped and their statuses "interrupted", what was predicted scored, exit code 130),
# rather than ending the host at once with its workers and containers still running.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


#: The signal that stopped the run, if one did: only Ctrl-C at a terminal asks about Slurm jobs.
_stopped_by: list[str] = []


def _raise_ctrl_c(signum: int, frame: object) -> None:
    _stopped_by.append(signal.Signals(signum).name)
    raise KeyboardInterrupt(signal.Signals(signum).name)


@contextmanager
def _stop_signals_as_ctrl_c() -> Iterator[None]:
    """SIGTERM and SIGHUP raise KeyboardInterrupt in the main thread while the run lasts; restored after."""
    if threading.current_thread() is not threading.main_thread():  # handlers can only be set there
        yield
        return
    # One that is ignored stays ignored: `nohup vlmbench run` must outlive the terminal it was started from.
    previous = {signum: signal.signal(signum, _raise_ctrl_c) for signum in STOP_SIGNALS
                if signal.getsignal(signum) is not signal.SIG_IGN}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)


def _plan_table(plan) -> Table:
    from rich.table import Table

    from vlmbench.executors import get_executor
    from vlmbench.rundir import RunDir

    executor = get_executor(plan.executor, container_runtime=plan.container_runtime)
    table = Table(title=f"plan {plan.run_id} → {plan.run_dir}", header_style="bold")
    for column in ("job", "model → class", "image", "dataset", "samples", "mounts", "GPUs · shards", "metrics"):
        table.add_column(column, overflow="fold")
    for job in plan.jobs:
        mounts = "\n".join(executor.describe_mounts(job, RunDir(plan.run_dir).job(job.job_id).path))
        table.add_row(job.job_id, f"{job.catalog_row.model_name}\n→ {job.spec.model.class_path}",
                      job.spec.image or "—" if executor.needs_host_import is False else "[dim]host python[/]",
                      job.spec.dataset.name, job.selection or str(job.n_samples), mounts,
                      (", ".join(job.gpus) or "—") + (f"\n{job.shards} shards" if job.shards > 1 else ""),
                      ", ".join(job.metrics))
    return table


def _show_scores(scores) -> None:
    from vlmbench.report import jobs_table, results_tables

    console().print(jobs_table(scores.jobs))
    for table in results_tables(scores.results, jobs=scores.jobs):  # one per dataset, caveats under each
        console().print(table)
    for job in scores.relabelled:
        console().print(f"[yellow]note[/]: {job.job_id} ({job.model_name} on {job.dataset}): the references "
                        "changed since its predictions were made; rescored, no model rerun")


ExecutorOption = Annotated[str, typer.Option(
    metavar="local|docker|slurm", help="Where each job's worker runs: a process here, a container, a Slurm job.")]
OutOption = Annotated[Path | None, typer.Option(
    metavar="DIR", help="The run directory.  [default: runs/NAME for CONFIG NAME.csv]")]
GpusOption = Annotated[str | None, typer.Option(metavar="LIST", help="GPUs to use, e.g. 0,1.")]
RuntimeOption = Annotated[str | None, typer.Option(
    metavar="RUNTIME", help="With --executor slurm: run each job's worker in its image on the node through "
                            "docker, podman, apptainer or pyxis [default: $VLMBENCH_CONTAINER_RUNTIME, else "
                            "none: the host's Python].")]
GpuPriceOption = Annotated[float | None, typer.Option(
    min=0.0, metavar="PRICE", help="What a GPU-hour costs (in your currency): the report shows the cost of 1,000 "
                                   "samples per model [default: $VLMBENCH_GPU_PRICE, else no cost].")]
ShardsOption = Annotated[str | None, typer.Option(
    metavar="N|auto", help="Split each job over N workers side by side, each on its own part of the samples "
                           "(and its own GPU); auto: one per GPU the job may use. A row's shards cell wins.")]


def _options(executor: str, out: Path | None, gpus: str | None, limit: int | None, sample: str | None,
             seed: str | None, catalog: list[Path] | None, shards: str | None = None,
             container_runtime: str | None = None, **more) -> RunOptions:
    """The options `run` and `validate` share, read the same way by both."""
    from vlmbench.runner import RunOptions
    from vlmbench.shards import MAX_SHARDS

    auto = shards is not None and shards.strip().lower() == "auto"
    return RunOptions(executor=executor, out=out, limit=limit, sample=_whole_number(sample, "--sample", 1),
                      seed=_whole_number(seed, "--seed", 0), catalogs=catalog or [],
                      gpus=[g.strip() for g in gpus.split(",")] if gpus else [],
                      shards="auto" if auto else _whole_number(shards, "--shards", 1, MAX_SHARDS),
                      container_runtime=container_runtime, **more)


def run(
    config: ConfigArg,
    executor: ExecutorOption = "local",
    out: OutOption = None,
    jobs: Annotated[int, typer.Option(min=1, metavar="N", help="Jobs run at once.")] = 1,
    gpus: GpusOption = None,
    shards: ShardsOption = None,
    container_runtime: RuntimeOption = None,
    limit: LimitOption = None,
    sample: SampleOption = None,
    seed: SeedOption = None,
    resume: Annotated[bool, typer.Option(help="Skip done jobs and answered samples.")] = True,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Print the plan (model → image → class, mounts, GPUs); start nothing.")] = False,
    timeout: Annotated[float | None, typer.Option(
        min=1, metavar="SECONDS", help="Seconds a job may run before it is stopped.")] = None,
    catalog: CatalogOption = None,
    max_error_rate: Annotated[float, typer.Option(
        min=0.0, max=1.0, metavar="SHARE",
        help="The share of a job's samples that may fail before the job counts as failed.")] = 0.5,
    data_root: DataRootOption = None,
    gpu_price: GpuPriceOption = None,
) -> None:
    """Plan jobs from the run CSV, run them, score, report.

    Exit code 0: every job done; 1: some job failed (the others still ran and were scored); 2: bad input
    (nothing started).

    Example: vlmbench run configs/demo.csv --out runs/demo --jobs 2 --limit 50
    """
    from vlmbench.progress import RichRunProgress
    from vlmbench.rundir import RunDir
    from vlmbench.runner import execute, samples_to_run, validate

    options = _options(executor, out, gpus, limit, sample, seed, catalog, shards, container_runtime, jobs=jobs,
                       resume=resume,
                       timeout_s=timeout, max_error_rate=max_error_rate, data_root=data_root,
                       gpu_price=gpu_price)
    plan = validate(config, options)
    if dry_run:
        console().print(_plan_table(plan))
        return
    left_running = False

    def leave_running() -> bool:
        nonlocal left_running
        left_running = _leave_running(progress)
        return left_running

    try:
        with _stop_signals_as_ctrl_c(), RichRunProgress(console(), samples_to_run(plan, resume)) as progress:
            outcome = execute(plan, options, progress, leave_running=leave_running)
    except KeyboardInterrupt:
        if left_running:
            console().print(f"[yellow]interrupted[/]: the run's Slurm jobs are left running; "
                            f"`vlmbench status {plan.run_dir}` follows them, the same command again attaches "
                            f"to them, `vlmbench cancel {plan.run_dir}` stops them")
        else:
            console().print(f"[yellow]interrupted[/]: predictions so far are kept in {plan.run_dir}; "
                            "run the same command again to resume")
        raise typer.Exit(130) from None
    _show_scores(outcome.scores)
    run_dir = RunDir(plan.run_dir)
    console().print(f"results: {run_dir.results_file}   report: {run_dir.report_html}")
    raise typer.Exit(outcome.exit_code)


ON_INTERRUPT_VARIABLE = "VLMBENCH_ON_INTERRUPT"  # cancel | leave: what Ctrl-C does to Slurm jobs unasked


def _leave_running(progress) -> bool:
    """On Ctrl-C of a Slurm run: leave its jobs running? $VLMBENCH_ON_INTERRUPT says (cancel, leave);
    unset, Ctrl-C at a terminal asks (default: cancel them), SIGTERM and SIGHUP (`vlmbench cancel`, a closed
    session) cancel."""
    import os
    import sys

    choice = os.environ.get(ON_INTERRUPT_VARIABLE, "").strip().lower()
    if choice in ("cancel", "leave") or _stopped_by or not sys.stdin.isatty():
        return choice == "leave"
    progress.pause()
    return not typer.confirm("Cancel the run's Slurm jobs? (no: leave them running; the same command "
                             "again attaches to them)", default=True)


def validate_command(config: ConfigArg, executor: ExecutorOption = "local", out: OutOption = None,
                     gpus: GpusOption = None, shards: ShardsOption = None,
                     container_runtime: RuntimeOption = None, catalog: CatalogOption = None,
                     limit: LimitOption = None, sample: SampleOption = None, seed: SeedOption = None,
                     data_root: DataRootOption = None) -> None:
    """Check a run CSV and everything it names, as `run` would, without running anything.

    Example: vlmbench validate configs/demo.csv --executor local
    """
    from vlmbench.runner import validate

    # The very checks `run` makes before it starts (datasets, prompts, executor, images, GPUs):
    # the two never disagree on whether an input is good.
    plan = validate(config, _options(executor, out, gpus, limit, sample, seed, catalog, shards, container_runtime,
                                     data_root=data_root))
    samples = sum(job.n_samples for job in plan.jobs)
    console().print(f"[green]ok[/]: {config} — {len(plan.jobs)} job(s), {samples:,} "
                    f"samples; models, datasets, prompts and metrics found; the {executor} executor is ready")


def evaluate(run_dir: RunDirArg) -> None:
    """Recompute metrics from saved predictions; no model runs.

    Example: vlmbench evaluate runs/demo
    """
    from vlmbench.evaluate import score_run
    from vlmbench.runlock import hold_run_dir

    with hold_run_dir(run_dir, "vlmbench evaluate"):  # it rewrites the run's scores: not while a run writes
        scores = score_run(run_dir)
    _show_scores(scores)


def report(run_dir: RunDirArg, gpu_price: GpuPriceOption = None) -> None:
    """Rebuild report.md and report.html from results.csv.

    Example: vlmbench report runs/demo
    """
    from vlmbench.evaluate import rebuild_report
    from vlmbench.rundir import RunDir
    from vlmbench.runlock import hold_run_dir

    with hold_run_dir(run_dir, "vlmbench report"):
        rebuild_report(run_dir, gpu_price=gpu_price)
    console().print(f"report: {RunDir(run_dir).report_html}")


def register(app: typer.Typer) -> None:
    app.command(name="run")(run)
    app.command(name="validate", short_help="Check a run CSV and all it names; run nothing.")(validate_command)
    app.command(name="evaluate")(evaluate)
    app.command(name="report")(report)
