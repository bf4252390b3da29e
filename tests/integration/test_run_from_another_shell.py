"""`vlmbench status` and `vlmbench cancel` on a local run going on in another process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import WORDS
from vlmbench.rundir import RunDir

pytestmark = [pytest.mark.integration, pytest.mark.workers]

CATALOG = ("framework,model_family,model_name,docker_image,python_package,module,class_name,params\n"
           'echo,Echo,slow-echo,,,,echo,"{""delay_s"": 0.3}"\n')


def vlmbench(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vlmbench", *map(str, args)], capture_output=True, text=True,
                          timeout=240, check=False, env={**os.environ, "COLUMNS": "200"})


def test_status_follows_a_running_run_and_cancel_stops_it_as_ctrl_c_does(tmp_path: Path, text_dataset: Path):
    (tmp_path / "catalog.csv").write_text(CATALOG)
    config = tmp_path / "slow.csv"
    config.write_text(f"model_name,dataset,batch_size,shards,prompt\nslow-echo,{text_dataset},1,2,A {{question}}\n"
                      f"slow-echo,{text_dataset},1,,B {{question}}\n")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "vlmbench", "run", str(config), "--out", str(out), "--catalog",
               str(tmp_path / "catalog.csv"), "--jobs", "2"]
    host = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if sum(p.read_text().count("\n") for p in out.glob("jobs/*/**/predictions.jsonl")) >= 4:
            break
        time.sleep(0.1)
    shown = vlmbench("status", out)
    assert shown.returncode == 0, shown.stderr
    assert f"vlmbench run (pid {host.pid}" in shown.stdout.replace("\n", " ")
    assert shown.stdout.count("running") >= 3  # the plain job, the sharded job and its shards
    assert "shard 1-of-2" in shown.stdout and f"/{len(WORDS)}" in shown.stdout
    assert "pid " in shown.stdout  # where each local worker runs

    cancelled = vlmbench("cancel", out)
    assert cancelled.returncode == 0, cancelled.stdout + cancelled.stderr
    assert f"stopped vlmbench run (pid {host.pid}" in cancelled.stdout.replace("\n", " ")
    output, _ = host.communicate(timeout=30)
    assert host.returncode == 130, output
    run = RunDir(out)
    for job in run.job_dirs():
        assert job.read_status().state == "interrupted"
    assert "no vlmbench process runs it now" in vlmbench("status", out).stdout
    assert "nothing runs in" in vlmbench("cancel", out).stdout
    again = subprocess.run(command, capture_output=True, text=True, timeout=240, check=False)
    assert again.returncode == 0, again.stdout + again.stderr
    for job in run.job_dirs():
        assert sorted(p.id for p in job.read_predictions()) == sorted(f"s{i}" for i in range(len(WORDS)))
