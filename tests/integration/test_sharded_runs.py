"""One job split over shards with the local executor: real worker processes side by side, one merged answer file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vlmbench.rundir import RunDir
from vlmbench.rundir.records import JobStatus

pytestmark = [pytest.mark.integration, pytest.mark.workers]

N_SAMPLES = 12
CATALOG = ("framework,model_family,model_name,docker_image,python_package,module,class_name,params\n"
           "echo,Echo,echo-test,,,,echo,\n"
           'echo,Echo,slow-echo,,,,echo,"{""delay_s"": 0.15}"\n')


@pytest.fixture
def words(tmp_path: Path) -> Path:
    """A folder of N_SAMPLES questions; the echo model's answers depend on each one."""
    from tests.conftest import WORDS, make_text_dataset

    return make_text_dataset(tmp_path / "words", WORDS[:N_SAMPLES])


def vlmbench(*args: object, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vlmbench", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, check=False, env={**os.environ, "COLUMNS": "250"})


def setup(tmp_path: Path, words: Path, model: str, shards: str = "") -> tuple[Path, Path]:
    (tmp_path / "catalog.csv").write_text(CATALOG)
    config = tmp_path / f"{model}.csv"
    config.write_text(f"model_name,dataset,batch_size,shards\n{model},{words},1,{shards}\n")
    return config, tmp_path / "catalog.csv"


def answers(out: Path) -> dict[str, str | None]:
    (job,) = RunDir(out).job_dirs()
    return {p.id: p.answer for p in job.read_predictions()}


def raw_ids(out: Path) -> list[str]:
    (job,) = RunDir(out).job_dirs()
    return [json.loads(line)["id"] for line in job.predictions_file.read_text().splitlines()]


def test_two_shards_answer_as_one_worker_does_in_two_processes_at_once(tmp_path, words):
    config, catalog = setup(tmp_path, words, "slow-echo")
    whole = vlmbench("run", config, "--out", tmp_path / "whole", "--catalog", catalog)
    assert whole.returncode == 0, whole.stdout + whole.stderr
    split = vlmbench("run", config, "--out", tmp_path / "split", "--catalog", catalog, "--shards", "2")
    assert split.returncode == 0, split.stdout + split.stderr

    assert answers(tmp_path / "split") == answers(tmp_path / "whole")
    assert sorted(raw_ids(tmp_path / "split")) == sorted(answers(tmp_path / "whole"))  # each once, merged
    (job,) = RunDir(tmp_path / "split").job_dirs()
    status = job.read_status()
    assert (status.state, status.n_samples, status.n_done) == ("done", N_SAMPLES, N_SAMPLES)
    shards = job.shard_dirs()
    assert [s.path.name for s in shards] == ["1-of-2", "2-of-2"]
    ends = [s.read_status() for s in shards]
    assert [e.n_samples for e in ends] == [N_SAMPLES // 2] * 2 and all(e.state == "done" for e in ends)
    assert len({e.worker_pid for e in ends}) == 2  # two processes...
    assert max(e.started_at for e in ends) < min(e.finished_at for e in ends)  # ...at the same time
    assert not any(s.has_predictions() for s in shards)  # merged into the job's file
    assert all(s.log_file.exists() for s in shards)  # each worker's own log stays
    record = json.loads(RunDir(tmp_path / "split").record_file.read_text())
    assert record["jobs"][0]["shards"] == 2 and record["jobs"][0]["job_id"] == job.job_id
    assert job.job_id == RunDir(tmp_path / "whole").job_dirs()[0].job_id  # sharding is not in the job id


def test_a_killed_shard_loses_nothing_and_a_rerun_resumes_each_shard(tmp_path, words):
    config, catalog = setup(tmp_path, words, "slow-echo", shards="3")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "vlmbench", "run", str(config), "--out", str(out), "--catalog", str(catalog)]
    host = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    victim = None
    deadline = time.monotonic() + 60
    while victim is None and time.monotonic() < deadline:
        for shard in out.glob("jobs/*/shards/2-of-3"):
            lines = (shard / "predictions.jsonl").read_text() if (shard / "predictions.jsonl").exists() else ""
            status = (shard / "status.json").read_text() if (shard / "status.json").exists() else ""
            if lines.count("\n") >= 1 and '"running"' in status:
                victim = JobStatus.model_validate_json(status).worker_pid
        time.sleep(0.02)
    assert victim is not None, "shard 2 never answered"
    os.kill(victim, signal.SIGKILL)
    output, _ = host.communicate(timeout=120)
    assert host.returncode == 1, output
    (job,) = RunDir(out).job_dirs()
    status = job.read_status()
    assert status.state == "failed" and status.error.startswith("shard 2/3: ") and "SIGKILL" in status.error
    kept = job.read_predictions()
    assert len(kept) < N_SAMPLES and len(raw_ids(out)) == len(set(raw_ids(out)))

    before = {s.path.name: s.read_status() for s in job.shard_dirs()}
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert sorted(raw_ids(out)) == sorted(f"s{i}" for i in range(N_SAMPLES))  # each sample exactly once
    assert {p.id: p.answer for p in kept if p.answer} == {i: a for i, a in answers(out).items() if i in
                                                          {p.id for p in kept if p.answer}}
    # The shards that had finished were not started again: only the killed one ran.
    reruns = {s.path.name: s.read_status() for s in job.shard_dirs()}
    assert reruns["2-of-3"].state == "done" and reruns["2-of-3"].started_at != before["2-of-3"].started_at
    assert reruns["1-of-3"] == before["1-of-3"] and reruns["3-of-3"] == before["3-of-3"]


def test_auto_takes_one_shard_per_gpu_and_a_split_that_cannot_share_gpus_is_refused(tmp_path, words):
    config, catalog = setup(tmp_path, words, "echo-test")
    plan = vlmbench("run", config, "--out", tmp_path / "o", "--catalog", catalog, "--shards", "auto",
                    "--gpus", "0,1", "--dry-run")
    assert plan.returncode == 0, plan.stderr
    assert "2 shards" in plan.stdout
    alone = vlmbench("run", config, "--out", tmp_path / "o", "--catalog", catalog, "--shards", "auto", "--dry-run")
    assert alone.returncode == 0 and "2 shards" not in alone.stdout  # no GPUs: one worker
    bad = tmp_path / "bad.csv"
    bad.write_text(f"model_name,dataset,gpus,shards\necho-test,{words},0|1|2,2\n")
    for command in ("validate", "run"):
        refused = vlmbench(command, bad, "--out", tmp_path / "o", "--catalog", catalog)
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "row 1, column 'shards'" in refused.stderr + refused.stdout
        assert "3 GPU(s) named for 2 shards" in refused.stderr + refused.stdout
        assert "Traceback" not in refused.stderr
    wrong = vlmbench("run", config, "--out", tmp_path / "o", "--catalog", catalog, "--shards", "0")
    assert wrong.returncode == 2 and "--shards must be a whole number from 1 to 256" in wrong.stderr + wrong.stdout
