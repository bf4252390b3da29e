"""Provenance end to end: a tiny transformers model run by `vlmbench run` (local executor), twice over:
from a folder and from a Hugging Face cache by repo id. run.json and the report must show what the
worker really ran with: its torch and transformers, the weights' commit and content hash, the prompt
and the sample selection."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import transformers  # noqa: F401  (a missing install must fail, not skip)
from markdown_it import MarkdownIt

from tests.conftest import WORDS, make_text_dataset
from vlmbench.rundir import RunDir
from vlmbench.testing import build_tiny_model
from vlmbench.weights_revision import folder_hash

pytestmark = [pytest.mark.integration, pytest.mark.transformers, pytest.mark.workers]

COMMIT = "5f0c1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b"
REPO = "tiny-org/tiny-qwen2-vl"
TEMPLATE = "Read the image. {question} Answer in one word."
SYSTEM = "You are a careful reader."


def hf_cache(root: Path, folder: Path) -> Path:
    """The tiny model as the hub's cache holds a download of REPO at COMMIT."""
    snapshot = root / f"models--{REPO.replace('/', '--')}" / "snapshots" / COMMIT
    shutil.copytree(folder, snapshot)
    (snapshot.parent.parent / "refs").mkdir()
    (snapshot.parent.parent / "refs" / "main").write_text(COMMIT)
    return snapshot


@pytest.mark.slow
def test_run_json_and_the_report_show_what_the_worker_ran_with(tmp_path):
    folder = build_tiny_model("qwen2_vl", tmp_path / "tiny-qwen2-vl")
    snapshot = hf_cache(tmp_path / "hub", folder)
    dataset = make_text_dataset(tmp_path / "words", WORDS[:6])
    params = json.dumps({"max_batch_size": 4, "dtype": "float32"}).replace('"', '""')
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(
        "framework,model_family,model_name,docker_image,python_package,module,class_name,weights,params\n"
        f"hf,Qwen2-VL,tiny-folder,,vlmbench,models.hf.adapter,HFVisionModel,{folder},\"{params}\"\n"
        f"hf,Qwen2-VL,tiny-hub,,vlmbench,models.hf.adapter,HFVisionModel,{REPO},\"{params}\"\n",
        encoding="utf-8")
    config = tmp_path / "run.csv"
    config.write_text("model_name,dataset,metrics,max_new_tokens,prompt,system_prompt,filter_doc_class\n"
                      f"tiny-folder,{dataset},['exact_match'],4,{TEMPLATE},{SYSTEM},\n"
                      f"tiny-hub,{dataset},['exact_match'],4,{TEMPLATE},,even\n", encoding="utf-8")
    out = tmp_path / "out"
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "hub"), "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "vlmbench", "run", str(config), "--out", str(out),
                           "--catalog", str(catalog), "--sample", "2", "--seed", "7"],
                          capture_output=True, text=True, timeout=600, check=False, env=env)
    assert done.returncode == 0, done.stdout + done.stderr

    record = RunDir(out).read_record()
    jobs = {job.catalog_row["model_name"]: job for job in record.jobs}
    for job in jobs.values():
        # The worker shares this venv: what it recorded of its own environment is what is installed here.
        assert job.environment is not None
        assert job.environment.torch == metadata.version("torch")
        assert job.environment.transformers == metadata.version("transformers")
        assert job.environment.packages["tokenizers"] == metadata.version("tokenizers")
        assert job.prompt is not None and job.prompt.template == TEMPLATE
        assert job.dataset is not None and (job.dataset.sample, job.dataset.seed) == (2, 7)
        assert job.generation is not None and job.generation.max_new_tokens == 4
        assert job.weights is not None and job.weights.hash_method == "vlmbench-folder-v1"
    local, hub = jobs["tiny-folder"], jobs["tiny-hub"]
    assert local.prompt.system_prompt == SYSTEM and hub.prompt.system_prompt is None
    assert hub.dataset.doc_classes == ["even"]
    assert local.selection == "2 of 6: seeded sample (seed 7), stratified by doc_class"
    assert hub.selection == "2 of 3 with doc_class even: seeded sample (seed 7), stratified by doc_class"
    # The weights: recomputed here from the folders, and the commit read from the cache the worker used.
    content_hash, n_files, total = folder_hash(folder)
    assert (local.weights.path, local.weights.commit) == (str(folder), None)
    assert (local.weights.content_hash, local.weights.n_files, local.weights.total_bytes) == (content_hash, n_files,
                                                                                              total)
    assert Path(hub.weights.path) == snapshot and (hub.weights.repo_id, hub.weights.commit) == (REPO, COMMIT)
    assert hub.weights.content_hash == content_hash  # the same files, found through the cache
    # Each job's status.json holds what run.json copied from it.
    for job in jobs.values():
        assert RunDir(out).job(job.job_id).read_status().weights == job.weights

    markdown = (out / "report.md").read_text(encoding="utf-8")
    section = markdown.split("## Provenance", 1)[1]
    assert TEMPLATE + "\n" in [t.content for t in MarkdownIt().parse(section) if t.type == "fence"]
    for shown in (f"torch: `{metadata.version('torch')}`", f"transformers: `{metadata.version('transformers')}`",
                  f"`{content_hash}`", f"`{REPO}@{COMMIT}`", "seeded sample of 2 (seed 7)", "doc_class even",
                  SYSTEM, local.job_id, hub.job_id):
        assert shown in section, shown
    html = (out / "report.html").read_text(encoding="utf-8")
    for shown in ('id="provenance"', content_hash, COMMIT, metadata.version("transformers"), TEMPLATE):
        assert shown in html, shown
