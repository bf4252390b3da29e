"""Job arrays on a real one-node cluster: a job's shards and many small jobs go to Slurm as one sbatch --array,
each task followed, cancelled, requeued and attached to on its own."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import WORDS
from vlmbench.rundir import JobDir, RunDir, SlurmArrayDir
from vlmbench.runner import RunOptions, run

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.slurm]

CATALOG = ("framework,model_family,model_name,docker_image,python_package,module,class_name,params\n"
           "echo,Echo,echo-a,,,,echo,\n"
           'echo,Echo,echo-b,,,,echo,"{""answer"": ""b""}"\n'
           'echo,Echo,echo-c,,,,echo,"{""answer"": ""c""}"\n'
           'echo,Echo,slow-echo,,,,echo,"{""delay_s"": 0.5, ""answer"": ""x""}"\n')
EVERY_SAMPLE = sorted(f"s{i}" for i in range(len(WORDS)))


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.csv"
    path.write_text(CATALOG, encoding="utf-8")
    return path


def _submitted_as(folder: JobDir) -> list[str]:
    """The Slurm ids the host noted for a worker folder (submitted or attached to)."""
    return [line.split("Slurm job ")[1].split(",")[0].strip() for line in folder.log_file.read_text().splitlines()
            if line.startswith("vlmbench host ") and "Slurm job " in line]


def _answers(run_dir: Path) -> dict[str, list[tuple[str, str | None]]]:
    return {job.read_spec().model.model_name: sorted((p.id, p.answer) for p in job.read_predictions())
            for job in RunDir(run_dir).job_dirs()}


def _our_tasks() -> list[str]:
    """Task ids of every vlmbench job array task not yet finished, one per line (-r)."""
    result = subprocess.run(["squeue", "-h", "-r", "-o", "%i %j"], capture_output=True, text=True, check=True)
    return [line.split()[0] for line in result.stdout.splitlines() if " vlmbench-run-" in line]


def test_shards_and_small_jobs_go_to_slurm_as_one_array_and_answer_as_locally(tmp_path, text_dataset, catalog,
                                                                              no_leftover_slurm_jobs):
    config = tmp_path / "run.csv"
    config.write_text("model_name,dataset,shards,metrics\n"
                      f"echo-a,{text_dataset},1,exact_match\n"
                      f"echo-b,{text_dataset},1,exact_match\n"
                      f"echo-c,{text_dataset},2,exact_match\n")
    local = run(config, RunOptions(executor="local", out=tmp_path / "local", catalogs=[catalog]))
    slurm = run(config, RunOptions(executor="slurm", out=tmp_path / "slurm", catalogs=[catalog]))
    assert local.exit_code == 0 and slurm.exit_code == 0, (local.statuses, slurm.statuses)
    assert _answers(tmp_path / "slurm") == _answers(tmp_path / "local")

    run_dir = RunDir(tmp_path / "slurm")
    folders = [folder for folder in run_dir.worker_dirs() if folder.has_status() and not folder.shard_dirs()]
    assert len(folders) == 4  # two lone jobs, two shards
    ids = {folder.path: _submitted_as(folder) for folder in folders}
    assert all(len(found) == 1 for found in ids.values()), ids
    [array_id] = {found[0].split("_")[0] for found in ids.values()}  # ready together, same resources: one sbatch
    [array] = [SlurmArrayDir(path) for path in run_dir.slurm_arrays_folder.iterdir()]
    tasks = array.read_tasks()
    assert tasks is not None and sorted(tasks.folders) == sorted(str(path) for path in ids)
    for index, folder in enumerate(tasks.folders):
        assert ids[Path(folder)] == [f"{array_id}_{index}"]
        # Slurm wrote the task's output into its folder's worker.log (through the array's <i>.log link).
        assert "vlmbench: Slurm job " in JobDir(folder).log_file.read_text()
    assert subprocess.run(["bash", "-n", str(array.script)], check=False).returncode == 0


def _in_background(config: Path, options: RunOptions) -> tuple[threading.Thread, dict]:
    outcome: dict = {}
    thread = threading.Thread(target=lambda: outcome.setdefault("run", run(config, options)))
    thread.start()
    return thread, outcome


def _wait_for(condition, what: str, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"{what} within {timeout_s:g} s")


def _sharded_slow_run(tmp_path: Path, text_dataset: Path, catalog: Path) -> tuple[Path, RunOptions]:
    config = tmp_path / "slow.csv"
    config.write_text(f"model_name,dataset,batch_size,shards\nslow-echo,{text_dataset},1,2\n")
    return config, RunOptions(executor="slurm", out=tmp_path / "out", catalogs=[catalog])


def test_an_array_task_scancelled_mid_run_fails_its_shard_and_a_rerun_resumes_it(tmp_path, text_dataset, catalog,
                                                                                no_leftover_slurm_jobs):
    config, options = _sharded_slow_run(tmp_path, text_dataset, catalog)
    runner, outcome = _in_background(config, options)
    out = RunDir(options.out)
    _wait_for(lambda: any(s.predictions_file.exists() and s.predictions_file.read_text().count("\n") >= 2
                          for job in out.job_dirs() for s in job.shard_dirs()), "no shard answered twice")
    [job] = out.job_dirs()
    second = job.shard_dirs()[1]
    [task] = _submitted_as(second)
    assert "_" in task  # an array task: cancelled alone, its sibling goes on
    subprocess.run(["scancel", task], check=True)
    runner.join(timeout=120)
    assert not runner.is_alive()
    first = outcome["run"]
    assert first.exit_code == 1
    status = first.statuses[job.job_id]
    assert status.state == "failed" and "shard 2/2" in status.error and "cancelled in Slurm" in status.error
    assert job.shard_dirs()[0].read_status().state == "done"

    again = run(config, options)
    assert again.exit_code == 0, again.statuses
    assert sorted(p.id for p in job.read_predictions()) == EVERY_SAMPLE
    assert len(job.predictions_file.read_text().splitlines()) == len(WORDS)  # each sample exactly once


def test_a_requeued_array_task_runs_again_and_resumes(tmp_path, text_dataset, catalog, no_leftover_slurm_jobs):
    """What preemption or a failed node does to an array task (--requeue), done with `scontrol requeue`."""
    config, options = _sharded_slow_run(tmp_path, text_dataset, catalog)
    runner, outcome = _in_background(config, options)
    out = RunDir(options.out)
    _wait_for(lambda: any(s.predictions_file.exists() and s.predictions_file.read_text().count("\n") >= 2
                          for job in out.job_dirs() for s in job.shard_dirs()[:1]), "shard 1 did not answer twice")
    [job] = out.job_dirs()
    shard = job.shard_dirs()[0]
    [task] = _submitted_as(shard)
    subprocess.run(["scontrol", "requeue", task], check=True)
    runner.join(timeout=240)
    assert not runner.is_alive()
    assert outcome["run"].exit_code == 0, outcome["run"].statuses
    assert shard.log_file.read_text().count("vlmbench: Slurm job ") == 2  # the same task, run twice
    lines = [json.loads(line)["id"] for line in job.predictions_file.read_text().splitlines()]
    assert sorted(lines) == EVERY_SAMPLE


def test_a_rerun_attaches_to_the_array_tasks_a_killed_host_left(tmp_path, text_dataset, catalog,
                                                                no_leftover_slurm_jobs):
    config, options = _sharded_slow_run(tmp_path, text_dataset, catalog)
    command = [sys.executable, "-m", "vlmbench", "run", str(config), "--out", str(options.out), "--catalog",
               str(catalog), "--executor", "slurm"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = RunDir(options.out)
    _wait_for(lambda: sum(s.predictions_file.read_text().count("\n") for job in out.job_dirs()
                          for s in job.shard_dirs() if s.predictions_file.exists()) >= 2, "no answers")
    process.kill()  # no chance to cancel anything, nor to note more than the submission
    process.wait(timeout=10)
    left = _our_tasks()
    assert len(left) == 2 and all("_" in task for task in left)

    again = run(config, options)
    assert again.exit_code == 0, again.statuses
    [job] = out.job_dirs()
    for shard in job.shard_dirs():
        log = shard.log_file.read_text()
        assert log.count("submitted as Slurm job") == 1 and log.count("attached to Slurm job") <= 1, log
    assert sum(s.log_file.read_text().count("attached to Slurm job") for s in job.shard_dirs()) >= 1
    assert len(job.predictions_file.read_text().splitlines()) == len(WORDS)  # each sample exactly once
    assert sorted(p.id for p in job.read_predictions()) == EVERY_SAMPLE


def test_the_queue_cap_holds_for_arrays_of_many_small_jobs(tmp_path, text_dataset, catalog, monkeypatch,
                                                           no_leftover_slurm_jobs):
    """VLMBENCH_SLURM_MAX_QUEUED=2 with four jobs: never more than two tasks in the queue."""
    monkeypatch.setenv("VLMBENCH_SLURM_MAX_QUEUED", "2")
    config = tmp_path / "run.csv"
    config.write_text("model_name,dataset,limit,prompt\n" + "".join(
        f"echo-{model},{text_dataset},4,{prompt} {{question}}\n" for model in "ab" for prompt in ("say", "read")))
    seen: list[int] = []
    stop = threading.Event()

    def count() -> None:
        while not stop.is_set():
            seen.append(len(_our_tasks()) + sum(1 for line in subprocess.run(
                ["squeue", "-h", "-o", "%j"], capture_output=True, text=True, check=True).stdout.split()
                if line.startswith("vlmbench-") and not line.startswith("vlmbench-run-")))
            time.sleep(0.1)

    counter = threading.Thread(target=count)
    counter.start()
    try:
        outcome = run(config, RunOptions(executor="slurm", out=tmp_path / "out", catalogs=[catalog]))
    finally:
        stop.set()
        counter.join()
    assert outcome.exit_code == 0, outcome.statuses
    assert len(outcome.statuses) == 4 and max(seen) <= 2 and max(seen) >= 1, seen
    tasks = [task for job in RunDir(tmp_path / "out").job_dirs() for task in _submitted_as(job)]
    assert len(tasks) == 4 and any("_" in task for task in tasks)  # two at a time went as an array
