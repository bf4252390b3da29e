"""The worker on real files with real models: resume, kill, bad images, failing samples."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import WORDS, make_text_dataset
from vlmbench.datasets import load_dataset
from vlmbench.rundir import JobDir, read_spec
from vlmbench.rundir.records import DatasetRef, JobSpec, ModelRef, PromptRule
from vlmbench.worker import run_worker

pytestmark = [pytest.mark.integration, pytest.mark.tesseract, pytest.mark.workers]


def write_job(job_dir: Path, dataset: Path, class_path: str, params: dict | None = None,
              batch_size: int = 4, limit: int | None = None) -> Path:
    data = load_dataset(dataset)
    spec = JobSpec(job_id="j1", run_id="r1", config_row=1,
                   model=ModelRef(model_name="m", framework="f", class_path=class_path, params=params or {}),
                   dataset=DatasetRef(name=data.name, path=str(dataset), fingerprint=data.fingerprint, limit=limit),
                   batch_size=batch_size)
    job_dir.mkdir(parents=True, exist_ok=True)
    JobDir(job_dir).create(spec)
    return job_dir / "job.json"


def test_tesseract_job_reads_the_words(tmp_path, text_dataset):
    job = write_job(tmp_path / "job", text_dataset, "tesseract", {"lang": "eng", "psm": "line"})
    assert run_worker(job) == 0
    predictions = JobDir(tmp_path / "job").read_predictions()
    assert [p.id for p in predictions] == [f"s{i}" for i in range(len(WORDS))]
    correct = sum(p.answer.strip().lower() == word for p, word in zip(predictions, WORDS, strict=True))
    assert correct >= len(WORDS) - 1
    status = JobDir(tmp_path / "job").read_status()
    assert (status.state, status.n_done, status.n_samples, status.n_errors) == ("done", len(WORDS), len(WORDS), 0)
    assert status.model_load_s is not None and status.samples_per_s > 0


def test_undecodable_image_is_that_samples_error_only(tmp_path):
    dataset = make_text_dataset(tmp_path / "d", WORDS[:5], corrupt={2})
    job = write_job(tmp_path / "job", dataset, "tesseract", {"lang": "eng", "psm": "line"})
    assert run_worker(job) == 0
    predictions = {p.id: p for p in JobDir(tmp_path / "job").read_predictions()}
    assert predictions["s2"].answer is None and "image decode failed" in predictions["s2"].error
    assert all(predictions[f"s{i}"].error is None for i in (0, 1, 3, 4))
    assert JobDir(tmp_path / "job").read_status().n_errors == 1


def test_a_failing_batch_is_retried_sample_by_sample(tmp_path, text_dataset):
    job = write_job(tmp_path / "job", text_dataset, "echo", {"fail_marker": "never"}, batch_size=4)
    # The prompt is the same for all samples, so fail on a marker set per sample via a prompt collection.
    spec = read_spec(job)
    spec.prompt.rules.append(PromptRule(doc_class="odd", template="odd {question}"))
    spec.model.params["fail_marker"] = "odd"
    JobDir(job.parent).create(spec)
    assert run_worker(job) == 0
    predictions = JobDir(tmp_path / "job").read_predictions()
    failed = {p.id for p in predictions if p.error}
    assert failed == {f"s{i}" for i in range(1, len(WORDS), 2)}
    assert all(p.answer == "1 What is written?" for p in predictions if not p.error)


def test_resume_skips_answered_samples_and_drops_a_torn_line(tmp_path, text_dataset):
    job = write_job(tmp_path / "job", text_dataset, "echo", limit=6)
    assert run_worker(job) == 0
    path = tmp_path / "job" / "predictions.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    assert len(lines) == 6
    path.write_text("".join(lines[:4]) + lines[4][:10])  # a kill in the middle of line 5
    job_spec = read_spec(job)
    job_spec.dataset.limit = None
    JobDir(job.parent).create(job_spec)
    assert run_worker(job) == 0
    ids = [p.id for p in JobDir(path.parent).read_predictions()]
    assert sorted(ids) == sorted(f"s{i}" for i in range(len(WORDS)))
    assert len(ids) == len(set(ids))


@pytest.mark.slow
def test_worker_killed_mid_run_loses_nothing_on_rerun(tmp_path):
    words = [f"{w}{i}" for i in range(5) for w in WORDS]  # 60 real images
    dataset = make_text_dataset(tmp_path / "d", words)
    job = write_job(tmp_path / "job", dataset, "tesseract", {"lang": "eng", "psm": "line", "threads": 1},
                    batch_size=1)
    predictions_path = tmp_path / "job" / "predictions.jsonl"
    process = subprocess.Popen([sys.executable, "-m", "vlmbench", "worker", str(job)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if predictions_path.exists() and predictions_path.read_text().count("\n") >= 10:
            break
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    before = JobDir(predictions_path.parent).read_predictions()
    assert 10 <= len(before) < len(words), "the kill should land mid-run"
    assert JobDir(tmp_path / "job").read_status().state == "running"

    result = subprocess.run([sys.executable, "-m", "vlmbench", "worker", str(job)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    after = JobDir(predictions_path.parent).read_predictions()
    ids = [p.id for p in after]
    assert len(ids) == len(set(ids)) == len(words)
    assert [p.model_dump() for p in after[: len(before)]] == [p.model_dump() for p in before]
    status = json.loads((tmp_path / "job" / "status.json").read_text())
    assert status["state"] == "done" and status["n_done"] == len(words)


def test_sigterm_marks_the_job_interrupted(tmp_path, text_dataset):
    job = write_job(tmp_path / "job", text_dataset, "echo", {"delay_s": 0.5}, batch_size=1)
    process = subprocess.Popen([sys.executable, "-m", "vlmbench", "worker", str(job)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    predictions_path = tmp_path / "job" / "predictions.jsonl"
    deadline = time.monotonic() + 30
    while not (predictions_path.exists() and predictions_path.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    assert process.wait(10) == 130
    status = JobDir(tmp_path / "job").read_status()
    assert status.state == "interrupted"
    assert 1 <= len(JobDir(predictions_path.parent).read_predictions()) < len(WORDS)


def test_unknown_schema_version_is_refused(tmp_path, text_dataset):
    job = write_job(tmp_path / "job", text_dataset, "echo")
    raw = json.loads(job.read_text())
    raw["schema_version"] = 99
    job.write_text(json.dumps(raw))
    result = subprocess.run([sys.executable, "-m", "vlmbench", "worker", str(job)], capture_output=True, text=True)
    assert result.returncode == 2
    assert "schema version 99" in result.stderr and "Traceback" not in result.stderr
    status = JobDir(job.parent).read_status()  # the host reads why, as for any other failure
    assert (status.state, status.failure_class, status.exit_code) == ("failed", "infrastructure", 2)
    assert "schema version 99" in status.error


def test_a_job_whose_samples_all_fail_ends_failed_with_its_first_error(tmp_path, text_dataset):
    job = write_job(tmp_path / "job", text_dataset, "echo", {"fail_marker": "written"})
    assert run_worker(job) == 1
    status = JobDir(tmp_path / "job").read_status()
    assert status.state == "failed" and status.exit_code == 1
    assert status.error.startswith(f"{len(WORDS)} of {len(WORDS)} samples failed")
    assert "first: " in status.error and "written" in status.error
    # every prediction is kept: the failures are evidence, and a rerun retries them
    assert len(JobDir(tmp_path / "job").read_predictions()) == len(WORDS)


@pytest.mark.parametrize(("max_error_rate", "state"), [(0.5, "failed"), (0.8, "done")])
def test_the_share_of_failed_samples_a_job_tolerates_is_the_users(tmp_path, max_error_rate, state):
    dataset = make_text_dataset(tmp_path / "d", WORDS[:5], corrupt={0, 1, 2})  # 60% undecodable
    job = write_job(tmp_path / "job", dataset, "echo")
    spec = read_spec(job)
    spec.max_error_rate = max_error_rate
    JobDir(job.parent).create(spec)
    assert run_worker(job) == (1 if state == "failed" else 0)
    status = JobDir(tmp_path / "job").read_status()
    assert (status.state, status.n_errors) == (state, 3)
    if state == "failed":
        assert "3 of 5 samples failed (more than 50% allowed); first: image decode failed" in status.error


def test_a_rerun_of_a_failed_job_retries_only_its_failed_samples(tmp_path, text_dataset):
    job = write_job(tmp_path / "job", text_dataset, "echo", batch_size=4)
    spec = read_spec(job)
    spec.prompt.rules.append(PromptRule(doc_class="odd", template="odd {question}"))
    spec.model.params["fail_marker"] = "odd"
    spec.max_error_rate = 0.2
    JobDir(job.parent).create(spec)
    assert run_worker(job) == 1  # half the samples fail
    path = tmp_path / "job" / "predictions.jsonl"
    answered = {p.id: p for p in JobDir(path.parent).read_predictions() if p.error is None}
    assert len(answered) == len(WORDS) // 2

    spec.model.params["fail_marker"] = "never"  # the passing cause is gone
    JobDir(job.parent).create(spec)
    assert run_worker(job) == 0
    after = JobDir(path.parent).read_predictions()
    assert len(path.read_text().splitlines()) == len(after) == len(WORDS)  # one line per sample
    assert all(p.error is None for p in after)
    assert all(p.model_dump() == answered[p.id].model_dump() for p in after if p.id in answered)  # not redone
    status = JobDir(tmp_path / "job").read_status()
    assert (status.state, status.n_done, status.n_errors) == ("done", len(WORDS), 0)
