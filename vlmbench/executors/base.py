"""What every executor does: run planned jobs in parallel, each to a final status.

An executor only decides *where* a worker runs. The shared part here runs
up to N jobs at once, turns any crash of one job into that job's `failed`
status (the others go on), and stops everything cleanly on Ctrl-C (which
`vlmbench run` also raises on SIGTERM and SIGHUP: see cli.run).
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import ClassVar

from vlmbench.jobfiles import JobStatus, now_iso
from vlmbench.plan import PlannedJob
from vlmbench.progress import ProgressSink, SilentProgress
from vlmbench.worker import STATUS


class Executor(ABC):
    name: ClassVar[str]
    #: Whether model classes must be importable on the host (not so in containers).
    needs_host_import: ClassVar[bool] = True

    def describe_mounts(self, job: PlannedJob, job_dir: Path) -> list[str]:
        """What a job reads and writes, for `vlmbench run --dry-run`."""
        return [f"{job.dataset_root} (ro)", f"{job_dir} (rw)"]

    def image_digests(self, images: Sequence[str]) -> dict[str, str]:
        """image -> digest for the images jobs run in; none when jobs run in no image."""
        return {}

    def __init__(self, timeout_s: float | None = None) -> None:
        self.stopping = threading.Event()
        self.timeout_s = timeout_s  # per job; None waits for ever

    def check(self, jobs: Sequence[PlannedJob]) -> None:  # noqa: B027 - most executors need no check
        """Raise an ExecutorError if these jobs cannot start here (before any folder is made)."""

    @abstractmethod
    def run_job(self, job: PlannedJob, job_dir: Path, progress: ProgressSink) -> JobStatus:
        """Run one worker to its end, or until :attr:`stopping` is set; return its final status."""

    def run_all(self, jobs: Sequence[tuple[PlannedJob, Path]], parallel: int = 1,
                progress: ProgressSink | None = None) -> dict[str, JobStatus]:
        progress = progress or SilentProgress()
        statuses: dict[str, JobStatus] = {}

        def guarded(job: PlannedJob, job_dir: Path) -> None:
            if self.stopping.is_set():
                return
            try:
                statuses[job.job_id] = self.run_job(job, job_dir, progress)
            except Exception as exc:  # noqa: BLE001 - one job's crash must not take down the others
                status = JobStatus.read(job_dir / STATUS)
                status.state, status.error, status.finished_at = "failed", f"{type(exc).__name__}: {exc}", now_iso()
                status.write(job_dir / STATUS)
                statuses[job.job_id] = status
            progress.finish(job.job_id, statuses[job.job_id].state)

        pool = ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix=f"{self.name}-job")
        futures = [pool.submit(guarded, job, job_dir) for job, job_dir in jobs]
        try:
            while wait(futures, timeout=0.2).not_done:  # short waits so Ctrl-C is seen at once
                pass
        except KeyboardInterrupt:
            self.stopping.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        return statuses
