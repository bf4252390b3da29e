"""A job array's files and the grouping of batch jobs into arrays (the cluster's part: tests/slurm)."""

from __future__ import annotations

import subprocess
import threading

import pytest

from vlmbench.executors import slurm as slurm_executor
from vlmbench.executors.slurm import SlurmExecutor, Submissions
from vlmbench.rundir import RunDir
from vlmbench.shards import Shard
from vlmbench.slurm.script import BatchJob, write_array


def _batch(run: RunDir, job_id: str, shard: Shard | None = None, gpus: int = 0) -> BatchJob:
    job_dir = run.job(job_id).path
    job_dir.mkdir(parents=True, exist_ok=True)
    return BatchJob(job_id=job_id, run_id="run-1", job_dir=job_dir, shard=shard, gpus=gpus,
                    python="/opt/py/bin/python")


def test_an_array_s_task_i_runs_the_i_th_batch_script_and_writes_to_its_worker_log(tmp_path):
    run = RunDir(tmp_path)
    tasks = [_batch(run, "a"), *(_batch(run, "b", shard) for shard in Shard.all_of(2))]
    folder = run.new_slurm_array()
    args = write_array(tasks, folder)
    assert "--array=0-2" in args and "--job-name=vlmbench-run-run-1" in args and args[-1] == str(folder.script)
    assert f"--output={folder.path / '%a.log'}" in args and f"--chdir={folder.path}" in args
    assert folder.read_tasks().folders == [str(task.files.path) for task in tasks]
    for index, task in enumerate(tasks):
        assert task.files.batch_script.exists()
        assert (folder.path / f"{index}.log").resolve() == task.files.log_file.resolve()
        # The dispatch script, run as Slurm runs task i, reaches task i's own script (here: an echo).
        task.files.batch_script.write_text(f"#!/bin/bash\necho task {index} in $PWD\n")
        ran = subprocess.run(["bash", str(folder.script)], env={"SLURM_ARRAY_TASK_ID": str(index)},
                             capture_output=True, text=True, check=True)
        assert ran.stdout == f"task {index} in {task.job_dir}\n"
    stray = subprocess.run(["bash", str(folder.script)], env={"SLURM_ARRAY_TASK_ID": "3"}, capture_output=True,
                           text=True, check=False)
    assert stray.returncode == 2 and "no task 3" in stray.stderr
    assert run.new_slurm_array().path != folder.path  # numbered: a later array never overwrites one


@pytest.fixture
def submitted(monkeypatch) -> list[list[str]]:
    """What would have gone to sbatch, in order; each call answers a new id."""
    calls: list[list[str]] = []

    def fake_submit(args):
        calls.append(list(args))
        return str(100 + len(calls))

    monkeypatch.setattr(slurm_executor, "submit", fake_submit)
    monkeypatch.setattr(slurm_executor, "GATHER_S", 0.2)
    return calls


def _submit_together(submissions: Submissions, batches: list[BatchJob]) -> list[str | None]:
    ids: list[str | None] = [None] * len(batches)

    def one(index: int) -> None:
        ids[index] = submissions.submit(batches[index])

    threads = [threading.Thread(target=one, args=(index,)) for index in range(len(batches))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return ids


def test_batch_jobs_ready_together_go_as_one_array_per_set_of_resources(tmp_path, submitted):
    run = RunDir(tmp_path)
    cpu = [_batch(run, f"cpu{i}") for i in range(3)]
    gpu = [_batch(run, f"gpu{i}", gpus=1) for i in range(2)]
    lone = [_batch(run, "lone", gpus=2)]
    ids = _submit_together(Submissions(SlurmExecutor()), cpu + gpu + lone)
    assert len(submitted) == 3
    arrays = {args[-1]: args for args in submitted}
    by_size = sorted(next((a for a in args if a.startswith("--array=")), "") for args in arrays.values())
    assert by_size == ["", "--array=0-1", "--array=0-2"]
    assert sorted(ids[:3]) == sorted(f"{ids[0].split('_')[0]}_{i}" for i in range(3))
    assert len({i.split("_")[0] for i in ids[3:5]}) == 1 and ids[3] != ids[4]
    assert "_" not in ids[5] and str(lone[0].files.batch_script) in arrays  # a lone batch job: as itself


def test_a_stop_during_the_gathering_submits_nothing(tmp_path, submitted):
    executor = SlurmExecutor()
    executor.stopping.set()
    assert Submissions(executor).submit(_batch(RunDir(tmp_path), "a")) is None
    assert submitted == []


def test_a_failed_sbatch_is_every_member_s_error(tmp_path, monkeypatch):
    from vlmbench.errors import ExecutorError

    def refuse(args):
        raise ExecutorError("sbatch said no")

    monkeypatch.setattr(slurm_executor, "submit", refuse)
    submissions = Submissions(SlurmExecutor())
    run = RunDir(tmp_path)
    errors: list[str] = []

    def one(batch: BatchJob) -> None:
        try:
            submissions.submit(batch)
        except ExecutorError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=one, args=(_batch(run, name),)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == ["sbatch said no"] * 2
