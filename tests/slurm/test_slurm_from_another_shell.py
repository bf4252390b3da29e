"""Slurm jobs left running on Ctrl-C, followed by `vlmbench status`, attached to by a rerun, stopped by cancel."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import WORDS
from tests.slurm.conftest import vlmbench_jobs_in_queue
from vlmbench.rundir import RunDir

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.slurm]

CATALOG = ("framework,model_family,model_name,docker_image,python_package,module,class_name,params\n"
           'echo,Echo,slow-echo,,,,echo,"{""delay_s"": 0.8}"\n')


def vlmbench(*args: object, env: dict | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vlmbench", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, check=False, env={**os.environ, "COLUMNS": "200", **(env or {})})


def started_and_left(tmp_path: Path, text_dataset: Path, shards: int) -> tuple[list[str], Path]:
    """A slow Slurm run stopped with Ctrl-C once it answered, its jobs left running; its command and out dir."""
    (tmp_path / "catalog.csv").write_text(CATALOG)
    config = tmp_path / "slow.csv"
    config.write_text(f"model_name,dataset,batch_size,shards\nslow-echo,{text_dataset},1,{shards}\n")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "vlmbench", "run", str(config), "--out", str(out), "--catalog",
               str(tmp_path / "catalog.csv"), "--executor", "slurm"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "VLMBENCH_ON_INTERRUPT": "leave"})
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        lines = sum(p.read_text().count("\n") for p in out.glob("jobs/*/**/predictions.jsonl"))
        if lines >= 2:
            break
        time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("the Slurm jobs never answered")
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 130, output
    assert "left running" in output and "Traceback" not in output
    return command, out


def test_jobs_left_running_are_followed_by_status_and_attached_to_by_a_rerun(tmp_path, text_dataset,
                                                                            no_leftover_slurm_jobs):
    command, out = started_and_left(tmp_path, text_dataset, shards=2)
    assert len(vlmbench_jobs_in_queue()) == 2  # both shards' batch jobs go on without the host
    shown = vlmbench("status", out)
    assert shown.returncode == 0, shown.stderr
    assert "no vlmbench process runs it now" in shown.stdout
    assert "running" in shown.stdout and "Slurm job" in shown.stdout and "shard 2-of-2" in shown.stdout

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    (job,) = RunDir(out).job_dirs()
    for shard in job.shard_dirs():
        # Each shard's batch job submitted once: followed by the rerun if still running, else done already.
        log = shard.log_file.read_text()
        assert log.count("submitted as Slurm job") == 1 and log.count("attached to Slurm job") <= 1, log
    assert sum(s.log_file.read_text().count("attached to Slurm job") for s in job.shard_dirs()) >= 1
    ids = [p.id for p in job.read_predictions()]
    assert sorted(ids) == sorted(f"s{i}" for i in range(len(WORDS)))
    assert len(job.predictions_file.read_text().splitlines()) == len(WORDS)  # each sample exactly once
    assert job.read_status().state == "done"
    assert "done" in vlmbench("status", out).stdout


def test_cancel_stops_jobs_left_running_and_a_rerun_resumes(tmp_path, text_dataset, no_leftover_slurm_jobs):
    command, out = started_and_left(tmp_path, text_dataset, shards=1)
    assert len(vlmbench_jobs_in_queue()) == 1
    cancelled = vlmbench("cancel", out)
    assert cancelled.returncode == 0, cancelled.stdout + cancelled.stderr
    assert "Slurm job" in cancelled.stdout and "cancelled" in cancelled.stdout
    assert not vlmbench_jobs_in_queue()
    (job,) = RunDir(out).job_dirs()
    assert job.read_status().state == "interrupted"
    kept = job.read_predictions()
    assert 2 <= len(kept) < len(WORDS)
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert sorted(p.id for p in job.read_predictions()) == sorted(f"s{i}" for i in range(len(WORDS)))


def test_ctrl_c_at_a_terminal_asks_and_no_leaves_the_jobs_running(tmp_path, text_dataset, no_leftover_slurm_jobs):
    """At a terminal (a pty here), Ctrl-C asks; answering no leaves the batch job for a later run."""
    import pty
    import threading

    (tmp_path / "catalog.csv").write_text(CATALOG)
    config = tmp_path / "slow.csv"
    config.write_text(f"model_name,dataset,batch_size\nslow-echo,{text_dataset},1\n")
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k != "VLMBENCH_ON_INTERRUPT"}
    pid, terminal = pty.fork()
    if pid == 0:  # the child: `vlmbench run` at a terminal
        os.execvpe(sys.executable, [sys.executable, "-m", "vlmbench", "run", str(config), "--out", str(out),
                                    "--catalog", str(tmp_path / "catalog.csv"), "--executor", "slurm"], env)
    seen = bytearray()

    def read() -> None:
        while True:
            try:
                chunk = os.read(terminal, 4096)
            except OSError:
                return
            if not chunk:
                return
            seen.extend(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    def wait_for(what, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        while not what() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert what(), bytes(seen).decode(errors="replace")[-2000:]

    wait_for(lambda: sum(p.read_text().count("\n") for p in out.glob("jobs/*/predictions.jsonl")) >= 2)
    os.write(terminal, b"\x03")  # Ctrl-C, as the terminal sends it
    wait_for(lambda: b"Cancel the run's Slurm jobs?" in seen, 30)
    os.write(terminal, b"n\r")
    _, code = os.waitpid(pid, 0)
    reader.join(timeout=5)
    text = bytes(seen).decode(errors="replace")
    assert os.waitstatus_to_exitcode(code) == 130, text[-2000:]
    assert "left running" in text and "Traceback" not in text
    assert len(vlmbench_jobs_in_queue()) == 1
    assert vlmbench("cancel", out).returncode == 0
    assert not vlmbench_jobs_in_queue()
