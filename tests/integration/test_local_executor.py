"""The local executor as a user drives it: parallel jobs, Ctrl-C, resume."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import WORDS
from vlmbench.rundir import JobDir
from vlmbench.rundir.records import JobStatus

pytestmark = [pytest.mark.integration, pytest.mark.workers]

CATALOG = ("framework,model_family,model_name,docker_image,python_package,module,class_name,params\n"
           'echo,Echo,slow-echo,,,,echo,"{""delay_s"": 0.2, ""answer"": ""x""}"\n')


def test_ctrl_c_keeps_predictions_and_a_rerun_resumes(tmp_path, text_dataset):
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(CATALOG)
    config = tmp_path / "run.csv"
    config.write_text(f"model_name,dataset,batch_size,metrics\nslow-echo,{text_dataset},1,exact_match\n")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "vlmbench", "run", str(config), "--out", str(out), "--catalog", str(catalog)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 30
    predictions = None
    while time.monotonic() < deadline:
        found = list(out.glob("jobs/*/predictions.jsonl"))
        if found and found[0].read_text().count("\n") >= 2:
            predictions = found[0]
            break
        time.sleep(0.05)
    assert predictions is not None, "the job never started"
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 130, output
    assert "interrupted" in output and "Traceback" not in output
    status = json.loads((predictions.parent / "status.json").read_text())
    assert status["state"] == "interrupted"
    kept = JobDir(predictions.parent).read_predictions()
    assert 2 <= len(kept) < 12
    # No worker is left running after the host stopped.
    leftover = subprocess.run(["pgrep", "-f", f"vlmbench worker {predictions.parent}"], capture_output=True)
    assert leftover.returncode == 1

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    final = JobDir(predictions.parent).read_predictions()
    assert [p.id for p in final[: len(kept)]] == [p.id for p in kept]
    assert sorted(p.id for p in final) == sorted(f"s{i}" for i in range(12))


def test_parallel_jobs_run_at_the_same_time(tmp_path, text_dataset):
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(CATALOG.replace("0.2", "0.5"))
    config = tmp_path / "run.csv"
    rows = "".join(f"slow-echo,{text_dataset},4,exact_match,Q{i}: {{question}}\n" for i in range(3))
    config.write_text("model_name,dataset,batch_size,metrics,prompt\n" + rows)
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "vlmbench", "run", str(config), "--out", str(out),
                             "--catalog", str(catalog), "--jobs", "3"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    statuses = [json.loads((d / "status.json").read_text()) for d in Path(out, "jobs").iterdir()]
    assert len(statuses) == 3
    # Each job sleeps 6 s; all three must have started before the first one finished.
    assert max(s["started_at"] for s in statuses) < min(s["finished_at"] for s in statuses)


def test_a_job_past_its_time_limit_fails_with_the_reason_and_keeps_its_predictions(tmp_path, text_dataset):
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(CATALOG.replace("0.2", "0.5"))
    config = tmp_path / "run.csv"
    config.write_text(f"model_name,dataset,batch_size,metrics\nslow-echo,{text_dataset},1,exact_match\n")
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "vlmbench", "run", str(config), "--out", str(out),
                             "--catalog", str(catalog), "--timeout", "3"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    (job_dir,) = Path(out, "jobs").iterdir()
    status = json.loads((job_dir / "status.json").read_text())
    assert status["state"] == "failed" and "timed out after 3 s" in status["error"]
    assert 1 <= len(JobDir(job_dir).read_predictions()) < 12


MISBEHAVING = '''
import os
import signal

from vlmbench.models.base import VisionLanguageModel


class Misbehaving(VisionLanguageModel):
    """Answers, or ends its worker in one of the ways a worker can end badly."""

    def __init__(self, weights=None, how="answer", **params):
        super().__init__(weights, **params)
        if how == "load-bug":
            1 / 0
        self.how = how

    def generate(self, requests):
        if self.how == "sigkill":
            os.kill(os.getpid(), signal.SIGKILL)
        if self.how in ("exit0", "exit3"):
            os._exit(int(self.how[-1]))  # no status written, no cleanup: as a crash in native code does
        if self.how == "divide":
            return [str(len(r.prompt) / 0) for r in requests]
        return ["x" for r in requests]
'''
HOWS = ("sigkill", "exit0", "exit3", "divide", "load-bug", "answer")


def _misbehaving_run(tmp_path: Path, text_dataset: Path) -> tuple[list[str], dict[str, str], Path]:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "misbehave.py").write_text(MISBEHAVING)
    catalog = tmp_path / "catalog.csv"
    catalog.write_text("framework,model_family,model_name,docker_image,python_package,module,class_name,params\n"
                       + "".join(f'test,Bad,bad-{how},,misbehave,,Misbehaving,"{{""how"": ""{how}""}}"\n'
                                 for how in HOWS))
    config = tmp_path / "run.csv"
    config.write_text("model_name,dataset,batch_size,metrics\n"
                      + "".join(f"bad-{how},{text_dataset},4,exact_match\n" for how in HOWS))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "vlmbench", "run", str(config), "--out", str(out), "--catalog", str(catalog),
               "--jobs", str(len(HOWS))]
    return command, {**os.environ, "PYTHONPATH": str(plugins), "COLUMNS": "200"}, out


def _statuses_by_model(out: Path) -> dict[str, tuple[JobStatus, Path]]:
    record = json.loads((out / "run.json").read_text())
    return {job["config_row"]["model_name"]: (JobDir(out / "jobs" / job["job_id"]).read_status(),
                                              out / "jobs" / job["job_id"])
            for job in record["jobs"]}


def test_every_way_a_worker_can_end_gives_its_job_a_final_status_and_the_run_exit_code_1(tmp_path, text_dataset):
    command, env, out = _misbehaving_run(tmp_path, text_dataset)
    result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    found = _statuses_by_model(out)
    expected = {  # model -> state, failure class, the error's start
        "bad-sigkill": ("failed", "infrastructure", "worker killed by SIGKILL"),
        "bad-exit0": ("failed", "infrastructure", "worker exited with code 0 without writing its final status"),
        "bad-exit3": ("failed", "infrastructure", "worker exited with code 3"),
        "bad-divide": ("failed", "model-error", f"{len(WORDS)} of {len(WORDS)} samples failed"),
        "bad-load-bug": ("failed", "model-load", "ZeroDivisionError: division by zero"),
        "bad-answer": ("done", None, None),
    }
    for model, (state, failure_class, error) in expected.items():
        status, _ = found[model]
        assert (status.state, status.failure_class) == (state, failure_class), (model, status)
        assert (status.error or "").startswith(error or ""), (model, status.error)
        assert status.finished_at is not None

    # A bug in a model (here a ZeroDivisionError, in generate and in the constructor) keeps its whole
    # traceback in worker.log; the user sees one line per job.
    assert "Traceback" not in result.stdout + result.stderr
    assert "division by zero" in result.stdout
    for model in ("bad-divide", "bad-load-bug"):
        status, job_dir = found[model]
        assert "ZeroDivisionError" in status.error and "\n" not in status.error
        log = (job_dir / "worker.log").read_text()
        assert "Traceback (most recent call last)" in log and "misbehave.py" in log, log
        assert "ZeroDivisionError: division by zero" in log


def test_an_exception_in_the_executor_s_thread_fails_that_job_and_the_run(tmp_path, text_dataset, monkeypatch):
    from vlmbench.executors.local import LocalExecutor
    from vlmbench.runner import RunOptions, run

    catalog = tmp_path / "catalog.csv"
    catalog.write_text(CATALOG.replace("0.2", "0"))
    config = tmp_path / "run.csv"
    config.write_text("model_name,dataset,metrics,prompt\n"
                      f"slow-echo,{text_dataset},exact_match,A: {{question}}\n"
                      f"slow-echo,{text_dataset},exact_match,B: {{question}}\n")
    real = LocalExecutor.run_job

    def run_job(self, job, job_dir, progress, shard=None):
        if job.spec.prompt.template.startswith("B"):
            raise RuntimeError("a bug in the executor")
        return real(self, job, job_dir, progress, shard)

    monkeypatch.setattr(LocalExecutor, "run_job", run_job)
    outcome = run(config, RunOptions(out=tmp_path / "out", catalogs=[catalog], jobs=2))
    assert outcome.exit_code == 1
    assert set(outcome.statuses) == {job.job_id for job in outcome.plan.jobs}
    states = sorted((s.state, s.failure_class) for s in outcome.statuses.values())
    assert states == [("done", None), ("failed", "infrastructure")]
    [bad] = [job for job in outcome.plan.jobs if outcome.statuses[job.job_id].state == "failed"]
    job_dir = tmp_path / "out" / "jobs" / bad.job_id
    assert JobDir(job_dir).read_status().error.startswith(
        "vlmbench bug in the local executor: RuntimeError: a bug in the executor")
    assert "Traceback" in (job_dir / "worker.log").read_text()


def test_a_planned_job_without_a_status_counts_as_failed(tmp_path, text_dataset):
    from vlmbench.runner import RunOptions, RunOutcome, validate

    catalog = tmp_path / "catalog.csv"
    catalog.write_text(CATALOG)
    config = tmp_path / "run.csv"
    config.write_text(f"model_name,dataset\nslow-echo,{text_dataset}\n")
    plan = validate(config, RunOptions(out=tmp_path / "out", catalogs=[catalog]))
    assert RunOutcome(plan=plan, statuses={}, scores=None).exit_code == 1
    done = {job.job_id: JobStatus(state="done") for job in plan.jobs}
    assert RunOutcome(plan=plan, statuses=done, scores=None).exit_code == 0
