"""The local executor: each worker is a subprocess of the host's Python.

No Docker needed, so it is the embedded default: the demo runs with it on
a fresh machine. The subprocess keeps a model's memory and crashes apart
from the host, and lets Ctrl-C stop a job without losing its predictions.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from vlmbench.executors.base import Executor
from vlmbench.jobfiles import JobStatus, now_iso
from vlmbench.plan import PlannedJob
from vlmbench.progress import LineCounter, ProgressSink
from vlmbench.worker import PREDICTIONS, STATUS

POLL_S = 0.2
TERMINATE_GRACE_S = 10.0
LOG_TAIL_LINES = 5


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except FileNotFoundError:
        return ""
    return " | ".join(line.strip() for line in text[-lines:])


def finalize_status(job_dir: Path, exit_code: int, *, oom: bool = False, stopped: bool = False,
                    timed_out_s: float | None = None) -> JobStatus:
    """The worker's own status when it wrote a final one; else what the exit code tells."""
    status = JobStatus.read(job_dir / STATUS)
    if status.state in ("done", "failed", "interrupted") and status.exit_code == exit_code and not timed_out_s:
        return status
    status.exit_code = exit_code
    status.oom = oom
    status.finished_at = now_iso()
    if timed_out_s is not None:
        status.state, status.error = "failed", f"timed out after {timed_out_s:g} s (the job's time limit)"
    elif stopped:
        status.state, status.error = "interrupted", "stopped by the user"
    elif exit_code == 0:
        status.state = "done"
    else:
        status.state = "failed"
        reason = "out of memory (killed)" if oom else f"worker exited with code {exit_code}"
        if exit_code < 0:
            reason = f"worker killed by {signal.Signals(-exit_code).name}"
        tail = log_tail(job_dir / "worker.log")
        status.error = f"{reason}: {tail}" if tail else reason
    status.write(job_dir / STATUS)
    return status


class LocalExecutor(Executor):
    name = "local"

    def command(self, job_dir: Path) -> list[str]:
        return [sys.executable, "-m", "vlmbench", "worker", str(job_dir / "job.json")]

    def run_job(self, job: PlannedJob, job_dir: Path, progress: ProgressSink) -> JobStatus:
        counter = LineCounter(job_dir / PREDICTIONS)
        progress.start(job.job_id, job.label, job.n_samples)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with (job_dir / "worker.log").open("ab") as log:
            # A new session: Ctrl-C in the terminal reaches the host only, which then stops workers in order.
            process = subprocess.Popen(self.command(job_dir), stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, env=env, start_new_session=True)
            started = time.monotonic()
            stopped = timed_out = False
            while process.poll() is None:
                progress.advance_to(job.job_id, min(counter.count(), job.n_samples))
                timed_out = self.timeout_s is not None and time.monotonic() - started > self.timeout_s
                if (self.stopping.is_set() or timed_out) and not stopped:
                    stopped = True
                    process.terminate()
                    try:
                        process.wait(TERMINATE_GRACE_S)
                    except subprocess.TimeoutExpired:
                        process.kill()
                time.sleep(POLL_S)
        progress.advance_to(job.job_id, min(counter.count(), job.n_samples))
        return finalize_status(job_dir, process.returncode, stopped=stopped,
                               timed_out_s=self.timeout_s if timed_out else None)
