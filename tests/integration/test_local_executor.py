"""The local executor as a user drives it: parallel jobs, Ctrl-C, resume."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vlmbench.jobfiles import read_predictions

pytestmark = pytest.mark.integration

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
    kept = read_predictions(predictions)
    assert 2 <= len(kept) < 12
    # No worker is left running after the host stopped.
    leftover = subprocess.run(["pgrep", "-f", f"vlmbench worker {predictions.parent}"], capture_output=True)
    assert leftover.returncode == 1

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    final = read_predictions(predictions)
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
    assert 1 <= len(read_predictions(job_dir / "predictions.jsonl")) < 12
