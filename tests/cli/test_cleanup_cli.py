"""`vlmbench cleanup` and the run lock as the commands meet them: refused while held, cleaned once not."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import write_run_record
from tests.unit.test_runlock import hold
from vlmbench.cleanup import clean_orphans
from vlmbench.cli.app import app
from vlmbench.rundir import LOCK as LOCK_NAME
from vlmbench.rundir import JobDir
from vlmbench.rundir.records import JobStatus

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def killed_run(run_dir: Path, executor: str = "local") -> Path:
    """A run directory as a SIGKILLed `vlmbench run` leaves it: its lock, a "running" job, a half write."""
    job_dir = run_dir / "jobs" / "job-a"
    job_dir.mkdir(parents=True)
    write_run_record(run_dir, "demo-1234abcd", executor)
    JobDir(job_dir).write_status(JobStatus(state="running", n_samples=10, n_done=4))
    JobDir(run_dir / "jobs" / "job-b").write_status(JobStatus(state="done", n_samples=10, n_done=10))
    (job_dir / ".status.json.k3x_9q2z").write_text("{half")
    (run_dir / ".results.csv.ab12cd34").write_text("half")
    process = hold(run_dir)
    process.kill()
    process.wait()
    return run_dir


def test_cleanup_after_a_killed_run(tmp_path):
    run_dir = killed_run(tmp_path / "runs" / "demo")
    result = invoke("cleanup", run_dir)
    assert result.exit_code == 0, result.output
    assert JobDir(run_dir / "jobs" / "job-a").read_status().state == "interrupted"
    assert "vlmbench cleanup" in JobDir(run_dir / "jobs" / "job-a").read_status().error
    assert JobDir(run_dir / "jobs" / "job-b").read_status().state == "done"
    assert not (run_dir / "jobs" / "job-a" / ".status.json.k3x_9q2z").exists()
    assert not (run_dir / ".results.csv.ab12cd34").exists()
    assert not (run_dir / LOCK_NAME).exists()
    for seen in ("running → interrupted", "stale lock of vlmbench run", "unfinished write of status.json"):
        assert seen in result.output
    again = invoke("cleanup", run_dir)
    assert again.exit_code == 0 and "nothing to clean" in again.output


def test_cleanup_refuses_a_live_run(tmp_path):
    run_dir = killed_run(tmp_path / "demo")
    process = hold(run_dir)
    try:
        result = invoke("cleanup", run_dir)
        assert result.exit_code == 2, result.output
        assert f"pid {process.pid} " in result.output and "wait for it or stop it" in result.output
        # Nothing was touched.
        assert JobDir(run_dir / "jobs" / "job-a").read_status().state == "running"
        assert (run_dir / "jobs" / "job-a" / ".status.json.k3x_9q2z").exists()
    finally:
        process.kill()
        process.wait()


@pytest.mark.integration
@pytest.mark.workers
def test_cleanup_stops_a_local_worker_that_outlived_its_runner(tmp_path):
    run_dir = killed_run(tmp_path / "demo")
    job_json = run_dir / "jobs" / "job-a" / "job.json"
    # What the local executor starts, in its own session: `python -m vlmbench worker RUN/jobs/ID/job.json`.
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "-m", "vlmbench", "worker",
                               str(job_json)], start_new_session=True)
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "-m", "vlmbench", "worker",
                                  str(tmp_path / "other" / "jobs" / "job-a" / "job.json")])
    try:
        time.sleep(0.2)
        result = invoke("cleanup", run_dir)
        assert result.exit_code == 0, result.output
        assert worker.wait(timeout=15) is not None
        assert f"pid {worker.pid} (job job-a)" in result.output
        assert bystander.poll() is None  # another run's worker is none of its business
    finally:
        for process in (worker, bystander):
            process.kill()
            process.wait()


def test_cleanup_needs_a_run_directory(tmp_path):
    assert invoke("cleanup", tmp_path / "missing").exit_code == 2
    result = invoke("cleanup", tmp_path)
    assert result.exit_code == 2 and "not a run directory" in result.output


def _echo_run(tmp_path: Path, text_dataset: Path) -> tuple[Path, Path]:
    catalog = tmp_path / "extra.csv"
    catalog.write_text("framework,model_family,model_name,docker_image,python_package,module,class_name\n"
                       "echo,Echo,echo-test,,,,echo\n")
    config = tmp_path / "run.csv"
    config.write_text(f"model_name,dataset\necho-test,{text_dataset}\n", encoding="utf-8")
    return config, catalog


@pytest.mark.integration
@pytest.mark.workers
def test_a_second_run_into_a_held_directory_is_refused_naming_the_holder(tmp_path, text_dataset):
    config, catalog = _echo_run(tmp_path, text_dataset)
    out = tmp_path / "out"
    out.mkdir()
    process = hold(out)
    try:
        result = invoke("run", config, "--out", out, "--catalog", catalog)
        assert result.exit_code == 2, result.output
        assert f"is in use by vlmbench run (pid {process.pid} on" in result.output
        assert f"vlmbench cleanup {out}" in result.output
        assert not (out / "jobs").exists() and not (out / "run.json").exists()
        for command in ("evaluate", "report"):  # they rewrite the run's files: not while it runs
            refused = invoke(command, out)
            assert refused.exit_code == 2 and f"pid {process.pid} " in refused.output, command
    finally:
        process.kill()
        process.wait()
    # The holder was killed: its lock is stale, and the run goes ahead and lets go of it at the end.
    result = invoke("run", config, "--out", out, "--catalog", catalog)
    assert result.exit_code == 0, result.output
    assert not (out / LOCK_NAME).exists()
    assert invoke("evaluate", out).exit_code == 0


class _Container:
    """What clean_orphans reads of a container, and what it does to one."""

    def __init__(self, name: str, job_dir: Path | None) -> None:
        self.name, self.short_id, self.status, self.labels = name, name[:12], "exited", {}
        self.attrs = {"Mounts": [{"Destination": "/job", "Source": str(job_dir)}] if job_dir else []}
        self.removed = False

    def reload(self) -> None:
        pass

    def stop(self, timeout: int) -> None:
        pass

    def remove(self, force: bool) -> None:
        self.removed = True


class _Client:
    def __init__(self, containers: list[_Container]) -> None:
        self.containers = self
        self.listed = containers

    def list(self, **kwargs) -> list[_Container]:
        return [c for c in self.listed if not c.removed]


def test_cleanup_without_a_run_dir_leaves_held_runs_alone(tmp_path):
    held, stale = killed_run(tmp_path / "held"), killed_run(tmp_path / "stale")
    mine = _Container("vlmbench-job-a-999999", stale / "jobs" / "job-a")
    theirs = _Container("vlmbench-job-a-999998", held / "jobs" / "job-a")
    homeless = _Container("vlmbench-job-z-999997", tmp_path / "deleted" / "jobs" / "job-z")
    process = hold(held)
    try:
        actions = clean_orphans(_Client([mine, theirs, homeless]))
    finally:
        process.kill()
        process.wait()
    assert mine.removed and homeless.removed and not theirs.removed
    assert JobDir(held / "jobs" / "job-a").read_status().state == "running"
    assert JobDir(stale / "jobs" / "job-a").read_status().state == "interrupted"
    left = next(a for a in actions if a.target == theirs.name)
    assert left.outcome.startswith("left:") and f"pid {process.pid} " in left.outcome
