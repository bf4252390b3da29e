"""A run parses its dataset's annotation file once: the host hands each job's samples to its worker.

The worker runs here in this process (a unit test of the hand-over), with a
dataset cache of its own as it has in its own process; the real subprocess
is tests/integration/test_worker_exit.py.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import write_echo_catalog
from vlmbench import runner as runner_module
from vlmbench.datasets import load_dataset
from vlmbench.datasets import loader as loader_module
from vlmbench.datasets.job_samples import job_samples, planned_samples
from vlmbench.datasets.selection import inputs_fingerprint, selected_samples
from vlmbench.errors import DatasetError
from vlmbench.executors.base import Observation
from vlmbench.executors.local import LocalExecutor
from vlmbench.rundir import JobDir, RunDir
from vlmbench.rundir.records import DatasetRef, JobSamples
from vlmbench.runner import RunOptions, run
from vlmbench.worker import Worker

HEADER = "data_index;split;image_path;question;answer;doc_class;question_type"
N = 10


def write_dataset(root: Path) -> Path:
    (root / "img").mkdir(parents=True)
    for colour in ("red", "blue"):
        Image.new("RGB", (8, 8), colour).save(root / "img" / f"{colour}.png")
    lines = [HEADER] + [f"s{i};test;img/{'red' if i % 2 else 'blue'}.png;Q{i}?;a{i};c{i % 3};field"
                        for i in range(N)]
    (root / "annotation.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


class InProcessExecutor(LocalExecutor):
    """The local executor with its worker in this process, started afresh as a subprocess would be: its own
    (empty) dataset cache, so that any parse it does is counted."""

    def _run_worker(self, job, job_dir, progress, shard, devices) -> Observation:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(loader_module, "_CACHE", OrderedDict())
            return Observation(exit_code=Worker(JobDir(job_dir).spec_file, shard).run())


def test_a_run_parses_its_dataset_once_and_times_the_prediction_phase(tmp_path, parses, monkeypatch):
    dataset = write_dataset(tmp_path / "d")
    catalog = write_echo_catalog(tmp_path / "extra.csv", delay_s=0.01)
    config = tmp_path / "run.csv"
    config.write_text(f"model_name,dataset,metrics,batch_size\necho-test,{dataset},exact_match,4\n")
    monkeypatch.setattr(runner_module, "get_executor", lambda *args, **kwargs: InProcessExecutor())
    outcome = run(config, RunOptions(out=tmp_path / "out", catalogs=[catalog]))
    assert outcome.exit_code == 0
    # Checking, planning, handing over, the worker and scoring: one parse between them.
    assert parses == [dataset.resolve() / "annotation.csv"]
    job = RunDir(tmp_path / "out").job(outcome.plan.jobs[0].job_id)
    handed = job.read_samples()
    assert handed is not None and [s.id for s in handed.samples] == [f"s{i}" for i in range(N)]
    assert [p.id for p in job.read_predictions()] == [f"s{i}" for i in range(N)]
    assert all(p.answered for p in job.read_predictions())

    status = job.read_status()
    # The model's own speed beside the whole job's: the prediction phase leaves model loading out.
    assert status.model_load_s is not None and status.model_load_s >= 0
    assert status.predict_s is not None and 0.01 * N <= status.predict_s <= status.wall_s
    assert status.predict_samples_per_s == pytest.approx(N / status.predict_s, rel=0.01)
    assert status.samples_per_s <= status.predict_samples_per_s


def ref_of(dataset: Path, **selection) -> DatasetRef:
    loaded = load_dataset(dataset)
    ref = DatasetRef(name="d", path=str(dataset), fingerprint=loaded.fingerprint, **selection)
    ref.inputs_fingerprint = inputs_fingerprint(selected_samples(loaded.samples, ref), loaded.files)
    return ref


def test_the_worker_answers_the_handed_samples_without_parsing(tmp_path, parses):
    dataset = write_dataset(tmp_path / "d")
    ref = ref_of(dataset, limit=4)
    handed = planned_samples(dataset, ref)
    assert [s.id for s in handed.samples] == ["s0", "s1", "s2", "s3"]
    loader_module.clear_dataset_cache()
    parses.clear()
    root, samples = job_samples(ref, handed)
    assert parses == []
    assert root == dataset.resolve() and samples == handed.samples


def test_an_image_changed_after_planning_is_caught_without_the_annotation(tmp_path, parses):
    dataset = write_dataset(tmp_path / "d")
    ref = ref_of(dataset)
    handed = planned_samples(dataset, ref)
    Image.new("RGB", (64, 64), "green").save(dataset / "img" / "red.png")  # another size: another image
    with pytest.raises(DatasetError, match="not the one this job was planned on"):
        job_samples(ref, handed)
    (dataset / "img" / "red.png").unlink()
    with pytest.raises(DatasetError, match="not the one this job was planned on"):
        job_samples(ref, handed)


def test_samples_handed_for_other_inputs_are_not_used(tmp_path, parses):
    dataset = write_dataset(tmp_path / "d")
    ref = ref_of(dataset, limit=3)
    stale = JobSamples(inputs_fingerprint="another job's", samples=planned_samples(dataset, ref).samples[:1])
    loader_module.clear_dataset_cache()
    parses.clear()
    _root, samples = job_samples(ref, stale)
    assert [s.id for s in samples] == ["s0", "s1", "s2"]
    assert len(parses) == 1  # read from the folder instead


def test_a_job_without_inputs_fingerprint_is_handed_nothing(tmp_path):
    dataset = write_dataset(tmp_path / "d")
    ref = DatasetRef(name="d", path=str(dataset), fingerprint="x")
    assert planned_samples(dataset, ref) is None
    root, samples = job_samples(ref, None)  # a hand-written job: the worker reads the folder
    assert root == dataset.resolve() and len(samples) == N


def test_a_samples_file_that_does_not_parse_is_ignored(tmp_path):
    job = JobDir(tmp_path / "job")
    job.path.mkdir()
    assert job.read_samples() is None
    job.samples_file.write_text('{"inputs_fingerprint": 3}', encoding="utf-8")
    assert job.read_samples() is None
