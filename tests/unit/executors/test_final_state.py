"""The one decision of a job's final state: what an executor saw, and the worker's status, in; state out."""

from __future__ import annotations

import signal

import pytest

from vlmbench.errors import ExecutorError, InfrastructureError
from vlmbench.executors import base
from vlmbench.executors.base import Observation, decide_final_status, settle
from vlmbench.rundir import JobDir
from vlmbench.rundir.records import FAILURE_CLASSES, JobStatus

RUNNING = JobStatus(state="running", n_samples=12, n_done=4)
PENDING = JobStatus(state="pending", n_samples=12)
DONE = JobStatus(state="done", exit_code=0, n_samples=12, n_done=12)
WORKER_FAILED = JobStatus(state="failed", exit_code=1, error="cannot load x from /w: OSError: no config.json",
                          failure_class="model-load")
OLD_WORKER_FAILED = JobStatus(state="failed", exit_code=1, error="ZeroDivisionError: division by zero")
WORKER_INTERRUPTED = JobStatus(state="interrupted", exit_code=130, error="interrupted by SIGTERM",
                               failure_class="interrupted")
TAIL = "loading | something broke"

# worker's status, what the executor saw -> state, failure class, the start of the error (None: no error)
TABLE = [
    ("done", DONE, Observation(exit_code=0), "done", None, None),
    ("worker's own failure kept", WORKER_FAILED, Observation(exit_code=1), "failed", "model-load",
     "cannot load x"),
    ("an older worker's failure is a model error", OLD_WORKER_FAILED, Observation(exit_code=1), "failed",
     "model-error", "ZeroDivisionError"),
    ("worker's interruption kept", WORKER_INTERRUPTED, Observation(exit_code=130, stopped=True), "interrupted",
     "interrupted", "interrupted by SIGTERM"),
    ("stopped, no word from the worker", RUNNING, Observation(exit_code=-9, stopped=True), "interrupted",
     "interrupted", base.STOPPED),
    ("stopped before it started", PENDING, Observation(stopped=True), "interrupted", "interrupted",
     base.STOPPED_BEFORE_START),
    ("a time limit beats the worker's interruption", WORKER_INTERRUPTED,
     Observation(exit_code=130, timed_out_s=3), "failed", "timeout", "timed out after 3 s (the job's time limit)"),
    ("out of memory", RUNNING, Observation(exit_code=137, oom=True), "failed", "oom", base.OUT_OF_MEMORY),
    ("killed by SIGKILL", RUNNING, Observation(exit_code=-signal.SIGKILL), "failed", "infrastructure",
     "worker killed by SIGKILL"),
    ("a segfault is the model's", RUNNING, Observation(exit_code=-signal.SIGSEGV), "failed", "model-error",
     "worker killed by SIGSEGV"),
    ("exit 0 without a final status", RUNNING, Observation(exit_code=0), "failed", "infrastructure",
     base.NO_FINAL_STATUS),
    ("a nonzero exit without a final status", RUNNING, Observation(exit_code=3), "failed", "infrastructure",
     "worker exited with code 3"),
    ("a done status that disagrees with the exit code", DONE, Observation(exit_code=-signal.SIGKILL), "failed",
     "infrastructure", "worker killed by SIGKILL"),
    ("what only the engine knows beats the worker's word", WORKER_INTERRUPTED,
     Observation(exit_code=None, external="Slurm job 7 lost its node (Slurm NODE_FAIL)"), "failed",
     "infrastructure", "Slurm job 7 lost its node"),
    ("the engine's OOM", WORKER_INTERRUPTED,
     Observation(external="Slurm job 7 ran out of memory", external_class="oom", oom=True), "failed", "oom",
     "Slurm job 7 ran out of memory"),
    ("an unknown end without a final status", RUNNING, Observation(context="Slurm job 7 left the queue",
                                                                   hint="shared path?"),
     "failed", "infrastructure", "Slurm job 7 left the queue: " + base.END_UNKNOWN + " (shared path?)"),
    ("an unknown end with a final status", DONE, Observation(), "done", None, None),
    ("an executor's error", RUNNING, Observation(error=InfrastructureError("no Docker Engine answers")), "failed",
     "infrastructure", "no Docker Engine answers"),
    ("an executor's bug", PENDING, Observation(error=KeyError("x"), executor="local"), "failed", "infrastructure",
     "vlmbench bug in the local executor: KeyError: 'x' (traceback in worker.log)"),
    ("an executor's error during a stop", RUNNING, Observation(error=ExecutorError("gone"), stopped=True),
     "interrupted", "interrupted", base.STOPPED),
]


@pytest.mark.parametrize(("worker", "seen", "state", "failure_class", "error"),
                         [row[1:] for row in TABLE], ids=[row[0] for row in TABLE])
def test_the_final_state_class_and_wording(worker, seen, state, failure_class, error):
    status = decide_final_status(worker, seen, TAIL)
    assert (status.state, status.failure_class) == (state, failure_class)
    if error is None:
        assert status.error is None
    else:
        assert status.error.startswith(error), status.error
    assert status.finished_at is not None
    assert status.failure_class is None or status.failure_class in FAILURE_CLASSES
    assert status.n_samples == worker.n_samples and status.n_done == worker.n_done  # the worker's counts kept
    assert worker.state in ("running", "pending", "done", "failed", "interrupted")  # not changed in place


def test_a_host_worded_failure_ends_with_the_log_tail_and_the_worker_s_own_does_not():
    assert decide_final_status(RUNNING, Observation(exit_code=3), TAIL).error.endswith(": " + TAIL)
    assert decide_final_status(WORKER_FAILED, Observation(exit_code=1), TAIL).error == WORKER_FAILED.error


def test_oom_and_exit_code_are_recorded():
    status = decide_final_status(RUNNING, Observation(exit_code=137, oom=True))
    assert status.oom and status.exit_code == 137


def test_settle_writes_once_what_it_decides(tmp_path):
    JobDir(tmp_path).write_status(RUNNING)
    (tmp_path / "worker.log").write_text("a\nb\n")
    status = settle(tmp_path, Observation(exit_code=-signal.SIGKILL))
    assert JobDir(tmp_path).read_status() == status
    assert status.error == "worker killed by SIGKILL: a | b"


def test_an_old_status_file_without_a_class_still_reads(tmp_path):
    (tmp_path / "status.json").write_text('{"state": "failed", "exit_code": 1, "error": "x"}')
    assert JobDir(tmp_path).read_status().failure_class is None
