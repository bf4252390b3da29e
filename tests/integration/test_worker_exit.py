"""A real worker process ends promptly once its final status is written, with its predictions and log whole.

The job is planned and handed its samples as `vlmbench run` does it; the
worker is the local executor's own command, a process of its own.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import write_echo_catalog
from vlmbench.datasets import make_bundled
from vlmbench.datasets.job_samples import planned_samples
from vlmbench.executors.local import LocalExecutor
from vlmbench.rundir import JobDir, RunDir
from vlmbench.runner import RunOptions, validate

#: From the final status to the process's end. Tearing down an interpreter that loaded torch and a model
#: took 1.0 to 3.3 s on these machines, a prompt exit 0.13 s; loose, as the machine is shared.
PROMPT_EXIT_S = 0.75


def planned_job(tmp_path: Path, row: str, limit: int, catalog: Path | None = None) -> JobDir:
    config = tmp_path / "run.csv"
    config.write_text(row, encoding="utf-8")
    plan = validate(config, RunOptions(out=tmp_path / "out", limit=limit, catalogs=[catalog] if catalog else []))
    job = plan.jobs[0]
    files = RunDir(plan.run_dir).job(job.job_id)
    files.create(job.spec)
    handed = planned_samples(job.dataset_root, job.spec.dataset)
    assert handed is not None
    files.write_samples(handed)
    return files


def run_and_time_exit(files: JobDir) -> tuple[int, float]:
    """Run the worker; seconds from the first sight of its final status to its end (0 if it ended first)."""
    with files.open_log() as log:
        process = subprocess.Popen(LocalExecutor().command(files.path), stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
        final_at = None
        while process.poll() is None:
            if final_at is None and files.read_status().state in ("done", "failed"):
                final_at = time.monotonic()
            time.sleep(0.005)
        ended = time.monotonic()
    return process.returncode, ended - (final_at or ended)


@pytest.mark.integration
@pytest.mark.transformers
@pytest.mark.workers
def test_a_transformers_worker_ends_promptly_with_its_predictions(tmp_path):
    files = planned_job(tmp_path, f"model_name,dataset,batch_size\neasyvqa-tiny,{make_bundled('easy-vqa')},32\n", 96)
    code, after_final = run_and_time_exit(files)
    status = files.read_status()
    assert code == 0 and status.state == "done", files.log_tail(10)
    assert after_final < PROMPT_EXIT_S
    predictions = files.read_predictions()
    assert [p.id for p in predictions] == [s.id for s in files.read_samples().samples]
    assert len(predictions) == 96 and all(p.answered for p in predictions)
    assert status.n_done == 96 and status.predict_s > 0 and status.predict_samples_per_s > 0
    assert "Traceback" not in files.log_file.read_text(encoding="utf-8")


@pytest.mark.integration
@pytest.mark.workers
def test_a_failing_worker_ends_promptly_with_its_code_and_tracebacks_logged(tmp_path, text_dataset):
    catalog = write_echo_catalog(tmp_path / "extra.csv", fail_marker="written")
    files = planned_job(tmp_path, f"model_name,dataset\necho-test,{text_dataset}\n", 6, catalog)
    code, after_final = run_and_time_exit(files)
    assert code == 1 and files.read_status().state == "failed"
    assert after_final < PROMPT_EXIT_S
    log = files.log_file.read_text(encoding="utf-8")
    assert "Traceback" in log and "asked to fail on 'written'" in log  # flushed before the process ended
    assert len(files.read_predictions()) == 6  # each sample's failure is recorded
