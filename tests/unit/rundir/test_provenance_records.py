"""run.json and status.json with provenance: written and read back; files from before it still read."""

from __future__ import annotations

import json

from vlmbench.environment import environment_versions
from vlmbench.models.base import GenerationParams
from vlmbench.rundir import JobDir, RunDir
from vlmbench.rundir.records import (
    RUN_SCHEMA_VERSION,
    DatasetRef,
    HostInfo,
    JobStatus,
    PromptRule,
    PromptSpec,
    RunJob,
    RunRecord,
    WeightsRevision,
)

WEIGHTS = WeightsRevision(weights="tiny-org/tiny", path="/hub/models--tiny-org--tiny/snapshots/abc123",
                          repo_id="tiny-org/tiny", commit="abc123", content_hash="f" * 64,
                          hash_method="vlmbench-folder-v1", n_files=7, total_bytes=912_000)


def full_record() -> RunRecord:
    job = RunJob(job_id="job-1", config_row={"model_name": "m", "dataset": "d"},
                 catalog_row={"framework": "hf", "model_name": "m"}, image="vlmbench/cpu",
                 image_digest="sha256:" + "1" * 64, metrics=["anls"], aggregators=["general"], n_samples=3,
                 selection="3 of 10: seeded sample (seed 7), stratified by doc_class", dataset_root="/data/d",
                 environment=environment_versions(),
                 prompt=PromptSpec(template="Q: {question}", system_prompt="Be brief.",
                                   rules=[PromptRule(doc_class="invoice", template="Invoice: {question}")]),
                 dataset=DatasetRef(name="d", path="/data/d", fingerprint="f1", sample=3, seed=7,
                                    doc_classes=["invoice"], inputs_fingerprint="i1"),
                 generation=GenerationParams(max_new_tokens=12, temperature=0.0), weights=WEIGHTS)
    return RunRecord(run_id="run-1", created_at="2026-12-03T00:00:00+00:00", config="/c/run.csv",
                     executor="docker", vlmbench="0.1", images={"vlmbench/cpu": "sha256:" + "1" * 64},
                     host=HostInfo(python="3.11", platform="Linux", node="n"), jobs=[job])


def test_a_record_with_every_provenance_field_reads_back_as_written(tmp_path):
    run = RunDir(tmp_path)
    run.write_record(full_record())
    assert run.read_record() == full_record()
    job = json.loads(run.record_file.read_text())["jobs"][0]
    assert job["prompt"]["template"] == "Q: {question}" and job["weights"]["commit"] == "abc123"
    assert job["dataset"]["seed"] == 7 and job["environment"]["packages"]


# What vlmbench wrote before provenance: RunJob without prompt, dataset, generation and weights, and
# environments without platform, gpus and packages.
OLD_RUN_JSON = {
    "schema_version": 1, "run_id": "words-1a2b3c4d", "created_at": "2026-12-02T10:00:00.000+00:00",
    "config": "/work/run.csv", "executor": "local", "container_runtime": None, "vlmbench": "0.1.0",
    "images": {}, "host": {"python": "3.11.7", "platform": "Linux-6.1-x86_64", "node": "box"},
    "jobs": [{
        "job_id": "0123456789ab", "config_row": {"row": 2, "model_name": "echo-test", "dataset": "words"},
        "catalog_row": {"framework": "echo", "model_name": "echo-test", "class_name": "echo"},
        "image": None, "image_digest": None, "metrics": ["exact_match"], "aggregators": ["general"],
        "n_samples": 12, "selection": "all 12", "dataset_root": "/work/words", "shards": 1,
        "environment": {"python": "3.11.7", "torch": "2.13.0+cpu", "transformers": "5.23.0", "vllm": None,
                        "vllm_distribution": None, "cuda": None, "nvidia_driver": None},
    }],
}


def test_a_run_json_from_before_provenance_still_reads(tmp_path):
    (tmp_path / "run.json").write_text(json.dumps(OLD_RUN_JSON))
    record = RunDir(tmp_path).read_record()
    assert record.schema_version == RUN_SCHEMA_VERSION == 1
    (job,) = record.jobs
    assert (job.prompt, job.dataset, job.generation, job.weights) == (None, None, None, None)
    assert job.environment.torch == "2.13.0+cpu" and job.environment.gpus == []
    # And one from before environments, shards and schema versions.
    older = {key: value for key, value in OLD_RUN_JSON.items() if key != "schema_version"}
    older["jobs"] = [{key: value for key, value in OLD_RUN_JSON["jobs"][0].items()
                      if key not in ("environment", "shards")}]
    (tmp_path / "run.json").write_text(json.dumps(older))
    assert RunDir(tmp_path).read_record().jobs[0].environment is None


def test_a_status_carries_the_weights_and_an_older_one_reads_without(tmp_path):
    files = JobDir(tmp_path / "job-1")
    files.path.mkdir()
    status = JobStatus(state="done", n_samples=3, n_done=3, environment=environment_versions(), weights=WEIGHTS)
    files.write_status(status)
    assert files.read_status() == status
    files.status_file.write_text('{"state": "done", "n_samples": 3, "n_done": 3}')
    assert files.read_status().weights is None
