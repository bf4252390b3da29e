"""The slurm executor on a real one-node cluster: same answers as local, cancel, Ctrl-C, resume."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import WORDS
from tests.slurm.conftest import vlmbench_jobs_in_queue
from vlmbench.errors import ExecutorError
from vlmbench.rundir import JobDir
from vlmbench.runner import RunOptions, run, validate

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.slurm]

CATALOG = ("framework,model_family,model_name,docker_image,python_package,module,class_name,params\n"
           "echo,Echo,echo-slurm,,,,echo,\n"
           'echo,Echo,slow-echo,,,,echo,"{""delay_s"": 0.3, ""answer"": ""x""}"\n')


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.csv"
    path.write_text(CATALOG, encoding="utf-8")
    return path


def _answers(run_dir: Path) -> dict[str, list[tuple[str, str | None, str | None]]]:
    found = {}
    for job_dir in (run_dir / "jobs").iterdir():
        model = JobDir(job_dir).read_spec().model.model_name
        found[model] = sorted((p.id, p.answer, p.error) for p in JobDir(job_dir).read_predictions())
    return found


def _slow_run(tmp_path: Path, text_dataset: Path) -> Path:
    config = tmp_path / "slow.csv"
    config.write_text(f"model_name,dataset,batch_size,metrics\nslow-echo,{text_dataset},1,exact_match\n")
    return config


def _wait_for_lines(run_dir: Path, lines: int, timeout_s: float = 60) -> Path:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for path in run_dir.glob("jobs/*/predictions.jsonl"):
            if path.read_text().count("\n") >= lines:
                return path
        time.sleep(0.1)
    pytest.fail(f"no job in {run_dir} wrote {lines} predictions within {timeout_s:g} s")


def test_echo_and_tesseract_answer_on_slurm_as_with_the_local_executor(tmp_path, text_dataset, catalog,
                                                                      no_leftover_slurm_jobs):
    config = tmp_path / "run.csv"
    config.write_text("model_name,dataset,filter_question_type,limit,metrics\n"
                      f"echo-slurm,{text_dataset},,,exact_match\n"
                      "tesseract-eng,synthetic-docs-en,full_text,3,CER\n")
    local = run(config, RunOptions(executor="local", out=tmp_path / "local", catalogs=[catalog]))
    slurm = run(config, RunOptions(executor="slurm", out=tmp_path / "slurm", catalogs=[catalog]))
    assert local.exit_code == 0 and slurm.exit_code == 0, (local.statuses, slurm.statuses)
    on_slurm = _answers(tmp_path / "slurm")
    assert on_slurm == _answers(tmp_path / "local")
    assert len(on_slurm["echo-slurm"]) == len(WORDS) and len(on_slurm["tesseract-eng"]) == 3
    assert all(answer and len(answer) > 20 and error is None for _, answer, error in on_slurm["tesseract-eng"])
    for job_dir in (tmp_path / "slurm" / "jobs").iterdir():
        log = (job_dir / "worker.log").read_text()
        # The worker really ran as a batch job: Slurm's own variables reached the script.
        assert "vlmbench: Slurm job " in log and "submitted as Slurm job" in log
        assert json.loads((job_dir / "status.json").read_text())["state"] == "done"
    assert "tesseract-eng" in (tmp_path / "slurm" / "results.csv").read_text()


def _run_in_background(config: Path, options: RunOptions) -> tuple[threading.Thread, dict]:
    """`run` in a thread; its outcome lands in the dict under "run"."""
    outcome: dict = {}
    runner = threading.Thread(target=lambda: outcome.setdefault("run", run(config, options)))
    runner.start()
    return runner, outcome


def test_a_job_scancelled_mid_run_fails_with_the_reason_and_a_rerun_resumes(tmp_path, text_dataset, catalog,
                                                                            no_leftover_slurm_jobs):
    config = _slow_run(tmp_path, text_dataset)
    options = RunOptions(executor="slurm", out=tmp_path / "out", catalogs=[catalog])
    runner, outcome = _run_in_background(config, options)
    predictions = _wait_for_lines(tmp_path / "out", 2)
    job_id = predictions.parent.name
    subprocess.run(["scancel", "--name", f"vlmbench-{job_id}"], check=True)
    runner.join(timeout=60)
    assert not runner.is_alive()
    first = outcome["run"]
    assert first.exit_code == 1
    status = first.statuses[job_id]
    assert status.state == "failed" and "cancelled in Slurm outside vlmbench" in status.error
    kept = JobDir(predictions.parent).read_predictions()
    assert 2 <= len(kept) < len(WORDS)

    again = run(config, options)
    assert again.exit_code == 0, again.statuses
    final = JobDir(predictions.parent).read_predictions()
    assert [p.id for p in final[: len(kept)]] == [p.id for p in kept]
    assert sorted(p.id for p in final) == sorted(f"s{i}" for i in range(len(WORDS)))


def test_a_requeued_job_runs_again_and_resumes_from_its_predictions(tmp_path, text_dataset, catalog,
                                                                   no_leftover_slurm_jobs):
    """What preemption or a failed node does to a batch job (--requeue), done with `scontrol requeue`."""
    config = _slow_run(tmp_path, text_dataset)
    options = RunOptions(executor="slurm", out=tmp_path / "out", catalogs=[catalog])
    runner, outcome = _run_in_background(config, options)
    predictions = _wait_for_lines(tmp_path / "out", 2)
    queued = subprocess.run(["squeue", "-h", "--name", f"vlmbench-{predictions.parent.name}", "-o", "%i"],
                            capture_output=True, text=True, check=True).stdout.split()
    assert len(queued) == 1
    subprocess.run(["scontrol", "requeue", queued[0]], check=True)
    runner.join(timeout=240)
    assert not runner.is_alive()
    result = outcome["run"]
    assert result.exit_code == 0, result.statuses
    log = (predictions.parent / "worker.log").read_text()
    assert log.count(f"vlmbench: Slurm job {queued[0]} on ") == 2  # the same batch job, run twice
    lines = [json.loads(line)["id"] for line in predictions.read_text().splitlines()]
    assert sorted(lines) == sorted(f"s{i}" for i in range(len(WORDS)))  # each sample exactly once


def test_ctrl_c_cancels_the_slurm_jobs_and_marks_them_interrupted(tmp_path, text_dataset, catalog,
                                                                  no_leftover_slurm_jobs):
    config = _slow_run(tmp_path, text_dataset)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "vlmbench", "run", str(config), "--out", str(out), "--catalog", str(catalog),
               "--executor", "slurm"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    predictions = _wait_for_lines(out, 2)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 130, output
    assert "Traceback" not in output
    status = json.loads((predictions.parent / "status.json").read_text())
    assert status["state"] == "interrupted", status
    assert 2 <= len(JobDir(predictions.parent).read_predictions()) < len(WORDS)
    assert not vlmbench_jobs_in_queue()


def test_a_job_past_its_time_limit_is_cancelled_and_fails_with_the_reason(tmp_path, text_dataset, catalog,
                                                                          no_leftover_slurm_jobs):
    catalog.write_text(CATALOG.replace("0.3", "0.6"), encoding="utf-8")  # 7 s of work at least
    config = _slow_run(tmp_path, text_dataset)
    outcome = run(config, RunOptions(executor="slurm", out=tmp_path / "out", catalogs=[catalog], timeout_s=3))
    assert outcome.exit_code == 1
    [(job_id, status)] = outcome.statuses.items()
    assert status.state == "failed" and "timed out after 3 s" in status.error
    assert 1 <= len(JobDir(tmp_path / "out" / "jobs" / job_id).read_predictions()) < len(WORDS)
    script = (tmp_path / "out" / "jobs" / job_id / "slurm.sh").read_text()
    assert "-P -m vlmbench worker" in script


def test_without_sbatch_the_run_stops_before_anything_starts_and_says_how_to_fix_it(tmp_path, text_dataset,
                                                                                     catalog, monkeypatch):
    config = _slow_run(tmp_path, text_dataset)
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))
    with pytest.raises(ExecutorError) as caught:
        validate(config, RunOptions(executor="slurm", out=tmp_path / "out", catalogs=[catalog]))
    assert "`sbatch` is not on PATH" in str(caught.value) and "slurm-cluster.sh" in str(caught.value)
    assert not (tmp_path / "out").exists()


def test_a_controller_that_does_not_answer_is_a_clear_error(tmp_path, text_dataset, catalog, monkeypatch,
                                                            slurm_cluster):
    # The real cluster's configuration, pointed at a port where no slurmctld listens.
    conf = Path("/etc/slurm/slurm.conf").read_text() + "SlurmctldPort=6999\n"
    (tmp_path / "slurm.conf").write_text(conf)
    monkeypatch.setenv("SLURM_CONF", str(tmp_path / "slurm.conf"))
    config = _slow_run(tmp_path, text_dataset)
    with pytest.raises(ExecutorError) as caught:
        validate(config, RunOptions(executor="slurm", out=tmp_path / "out", catalogs=[catalog]))
    assert "the Slurm controller does not answer" in str(caught.value) and "DOWN" in str(caught.value)
    assert "scontrol ping" in caught.value.problems[0].hint


def test_resources_the_cluster_lacks_are_refused_before_anything_starts(tmp_path, text_dataset, catalog,
                                                                        slurm_cluster):
    config = tmp_path / "gpu.csv"
    config.write_text(f"model_name,dataset,gpus,metrics\nslow-echo,{text_dataset},0,exact_match\n")
    with pytest.raises(ExecutorError) as caught:
        validate(config, RunOptions(executor="slurm", out=tmp_path / "out", catalogs=[catalog]))
    assert "Slurm would not run job" in str(caught.value) and "--gres=gpu:1" in str(caught.value)


def test_a_rerun_attaches_to_the_jobs_a_killed_host_left(tmp_path, text_dataset, catalog,
                                                         no_leftover_slurm_jobs):
    config = _slow_run(tmp_path, text_dataset)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "vlmbench", "run", str(config), "--out", str(out), "--catalog", str(catalog),
               "--executor", "slurm"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    predictions = _wait_for_lines(out, 2)
    process.kill()  # no chance to cancel anything
    process.wait(timeout=10)
    assert any(line.startswith(f"vlmbench-{predictions.parent.name} ") for line in vlmbench_jobs_in_queue())

    again = run(config, RunOptions(executor="slurm", out=out, catalogs=[catalog]))
    assert again.exit_code == 0, again.statuses
    assert sorted(p.id for p in JobDir(predictions.parent).read_predictions()) == sorted(f"s{i}" for i in range(len(WORDS)))
    log = (predictions.parent / "worker.log").read_text()
    # Followed, not submitted again: the batch job it left writes to the same files.
    assert log.count("submitted as Slurm job") == 1 and log.count("attached to Slurm job") == 1, log
    lines = [json.loads(line)["id"] for line in predictions.read_text().splitlines()]
    assert sorted(lines) == sorted(f"s{i}" for i in range(len(WORDS)))  # each sample exactly once


def test_an_sbatch_that_fails_is_retried_then_fails_the_job_as_infrastructure(tmp_path, text_dataset, catalog,
                                                                            monkeypatch, no_leftover_slurm_jobs):
    from vlmbench.executors import base
    from vlmbench.executors.slurm import SlurmExecutor

    config = _slow_run(tmp_path, text_dataset)
    plan = validate(config, RunOptions(executor="slurm", out=tmp_path / "out", catalogs=[catalog]))
    monkeypatch.setattr(base, "RETRY_FIRST_S", 0.05)
    # A partition the cluster lacks, set after the check: what a partition removed mid-run looks like.
    monkeypatch.setenv("VLMBENCH_SLURM_PARTITION", "no-such-partition")
    jobs = [(job, plan.run_dir / "jobs" / job.job_id) for job in plan.jobs]
    for _, job_dir in jobs:
        job_dir.mkdir(parents=True)
    statuses = SlurmExecutor().run_all(jobs)
    [(job, job_dir)] = jobs
    status = statuses[job.job_id]
    assert (status.state, status.failure_class) == ("failed", "infrastructure")
    assert status.error.startswith("`sbatch --parsable") and "partition" in status.error.lower()
    assert JobDir(job_dir).read_status() == status
    log = (job_dir / "worker.log").read_text()
    assert log.count("retrying in") == base.RETRY_TRIES - 1 and "sbatch: " in log


def test_the_queue_cap_counts_each_shard_s_batch_job(tmp_path, text_dataset, catalog, monkeypatch,
                                                     no_leftover_slurm_jobs):
    """VLMBENCH_SLURM_MAX_QUEUED=1: a job's two shards go into the queue one after the other."""
    monkeypatch.setenv("VLMBENCH_SLURM_MAX_QUEUED", "1")
    config = tmp_path / "run.csv"
    config.write_text(f"model_name,dataset,shards\necho-slurm,{text_dataset},2\n")
    outcome = run(config, RunOptions(executor="slurm", out=tmp_path / "out", catalogs=[catalog]))
    assert outcome.exit_code == 0, outcome.statuses
    [job] = (tmp_path / "out" / "jobs").iterdir()
    first, second = sorted((JobDir(d).read_status() for d in JobDir(job).shard_dirs()), key=lambda s: s.started_at)
    assert first.finished_at <= second.started_at  # never both in the queue
    assert sorted(p.id for p in JobDir(job).read_predictions()) == sorted(f"s{i}" for i in range(len(WORDS)))
