"""run.lock: one process per run directory, a killed holder's lock taken over, pid reuse told apart."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from vlmbench.errors import RunDirInUseError
from vlmbench.rundir import LOCK as LOCK_NAME
from vlmbench.runlock import LockOwner, RunLock, hold_run_dir, read_owner, start_ticks

HOLDER = """
import sys, time
from vlmbench.runlock import RunLock
lock = RunLock(sys.argv[1], "vlmbench run").acquire()
print("locked", flush=True)
time.sleep(120)
"""


def hold(run_dir: Path) -> subprocess.Popen:
    """Another process holding run_dir's lock, as a `vlmbench run` does, until it is killed."""
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(run_dir)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "locked"
    return process


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen]:
    process = hold(tmp_path)
    yield process
    process.kill()
    process.wait()


def test_a_second_process_is_refused_with_the_holders_pid(tmp_path, holder):
    with pytest.raises(RunDirInUseError) as refused:
        RunLock(tmp_path).acquire()
    message = str(refused.value)
    assert f"is in use by vlmbench run (pid {holder.pid} on " in message
    assert f"`vlmbench cleanup {tmp_path}` if it is gone" in message
    assert "\n" not in message
    # The holder keeps it: the refused process removed nothing.
    assert read_owner(tmp_path).pid == holder.pid


def test_a_sigkilled_holders_lock_is_taken_over_and_removed_on_release(tmp_path):
    process = hold(tmp_path)
    process.kill()
    process.wait()
    assert (tmp_path / LOCK_NAME).exists()  # a killed holder cannot remove it
    with RunLock(tmp_path) as lock:
        assert lock.stale is not None and lock.stale.pid == process.pid
        assert read_owner(tmp_path).pid == os.getpid()
    assert not (tmp_path / LOCK_NAME).exists()


def test_one_process_at_a_time_even_within_a_process(tmp_path):
    with RunLock(tmp_path), pytest.raises(RunDirInUseError, match=f"pid {os.getpid()} "):
        RunLock(tmp_path, "vlmbench evaluate").acquire()
    RunLock(tmp_path).acquire().release()  # released: free again


def _write_owner(run_dir: Path, **changes) -> LockOwner:
    sleeper = changes.pop("sleeper")
    owner = LockOwner.current("vlmbench run")
    record = {**json.loads(owner.to_json()), "pid": sleeper.pid, "start_ticks": start_ticks(sleeper.pid),
              **changes}
    (run_dir / LOCK_NAME).write_text(json.dumps(record), encoding="utf-8")
    return LockOwner.parse(json.dumps(record))


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen]:
    process = subprocess.Popen(["sleep", "60"])
    yield process
    process.kill()
    process.wait()


def test_a_reused_pid_is_not_mistaken_for_the_owner(tmp_path, sleeper):
    # The lock file names a live pid, but a process started at another time: the owner died and its pid
    # went to a newer process. The lock is stale.
    _write_owner(tmp_path, sleeper=sleeper, start_ticks=start_ticks(sleeper.pid) - 1)
    with RunLock(tmp_path) as lock:
        assert lock.stale.pid == sleeper.pid


def test_a_recorded_owner_that_still_runs_keeps_the_directory_where_flock_does_not_reach(tmp_path, sleeper):
    # Free flock, yet the very process the file names still runs (a filesystem without flock): refused.
    _write_owner(tmp_path, sleeper=sleeper)
    with pytest.raises(RunDirInUseError, match=f"pid {sleeper.pid} "):
        RunLock(tmp_path).acquire()


def test_a_dead_recorded_owner_or_another_boot_is_stale(tmp_path, sleeper):
    _write_owner(tmp_path, sleeper=sleeper, boot_id="another-boot")
    with RunLock(tmp_path) as lock:
        assert lock.stale is not None
    sleeper.kill()
    sleeper.wait()
    _write_owner(tmp_path, sleeper=sleeper)
    with RunLock(tmp_path) as lock:
        assert lock.stale.pid == sleeper.pid


def test_another_hosts_owner_is_kept_unless_forced(tmp_path, sleeper):
    _write_owner(tmp_path, sleeper=sleeper, host="login-elsewhere")
    with pytest.raises(RunDirInUseError) as refused:
        RunLock(tmp_path).acquire()
    assert "on login-elsewhere" in str(refused.value) and "--force" in str(refused.value)
    with RunLock(tmp_path, "vlmbench cleanup", force=True) as lock:
        assert lock.stale.host == "login-elsewhere"


def test_a_garbled_lock_file_without_holder_is_taken(tmp_path):
    (tmp_path / LOCK_NAME).write_text("{not json", encoding="utf-8")
    with RunLock(tmp_path) as lock:
        assert lock.stale is None


def test_hold_run_dir_skips_a_missing_directory(tmp_path):
    with hold_run_dir(tmp_path / "nowhere", "vlmbench evaluate") as lock:
        assert lock is None
    assert not (tmp_path / "nowhere").exists()


def test_start_ticks_reads_a_command_name_with_spaces_and_parentheses(tmp_path):
    script = tmp_path / "odd) name (x"
    script.write_text("#!/bin/sh\nsleep 30\n")
    script.chmod(0o755)
    process = subprocess.Popen([str(script)])
    try:
        assert isinstance(start_ticks(process.pid), int)
    finally:
        process.kill()
        process.wait()
    assert start_ticks(2**22 + 12345) is None
