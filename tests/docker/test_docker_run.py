"""Runs through `--executor docker` on a real engine: same answers as the local executor."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import WORDS, make_text_dataset
from tests.docker.conftest import CPU_IMAGE, extra_catalog
from vlmbench.rundir import JobDir, read_spec
from vlmbench.runner import RunOptions, run

pytestmark = [pytest.mark.docker, pytest.mark.integration, pytest.mark.slow]


def _answers(run_dir: Path) -> dict[str, list[tuple]]:
    """Per model: (id, prompt, answer, error) of every prediction, in order."""
    record = json.loads((run_dir / "run.json").read_text())
    found = {}
    for job in record["jobs"]:
        predictions = JobDir(run_dir / "jobs" / job["job_id"]).read_predictions()
        found[job["config_row"]["model_name"]] = [(p.id, p.prompt, p.answer, p.error) for p in predictions]
    return found


def _run_both(config: Path, tmp_path: Path, catalogs: list[Path] = ()) -> tuple[dict, dict]:
    local = run(config, RunOptions(executor="local", out=tmp_path / "local", catalogs=catalogs))
    docker = run(config, RunOptions(executor="docker", out=tmp_path / "docker", catalogs=catalogs))
    assert local.exit_code == 0 and docker.exit_code == 0, (local.statuses, docker.statuses)
    return _answers(tmp_path / "local"), _answers(tmp_path / "docker")


def test_tesseract_in_a_container_answers_as_the_local_worker(tmp_path, cpu_image, no_leftover_containers):
    config = tmp_path / "smoke.csv"
    config.write_text("model_name,dataset,filter_question_type,limit,metrics\n"
                      "tesseract-eng,synthetic-docs-en,full_text,3,CER\n")
    local, docker = _run_both(config, tmp_path)
    assert len(docker["tesseract-eng"]) == 3
    assert all(answer and len(answer) > 20 and error is None for _, _, answer, error in docker["tesseract-eng"])
    assert docker == local
    # What the container was told: its own paths, in its own job file; the plan's keeps the host's.
    [job_dir] = (tmp_path / "docker" / "jobs").iterdir()
    inside, planned = read_spec(JobDir(job_dir).container_spec_file), JobDir(job_dir).read_spec()
    assert inside.dataset.path == "/dataset" and inside.image == CPU_IMAGE
    assert Path(planned.dataset.path).is_dir() and planned.model_copy(update={"dataset": inside.dataset}) == inside
    assert (tmp_path / "docker" / "results.csv").read_text().count("tesseract-eng") >= 1


def test_tiny_transformers_model_in_a_container_answers_as_the_local_worker(tmp_path, cpu_image,
                                                                            no_leftover_containers, text_dataset):
    from vlmbench.testing import build_tiny_model

    weights = build_tiny_model("qwen2_vl", tmp_path / "tiny-qwen2-vl")
    catalog = extra_catalog(tmp_path / "tiny.csv", [
        f'hf,Qwen2-VL,tiny-qwen2-vl,{CPU_IMAGE},vlmbench,models.hf.adapter,HFVisionModel,{weights},'
        + '"{""dtype"": ""float32""}"'])
    config = tmp_path / "tiny_run.csv"
    config.write_text(f"model_name,dataset,limit,max_new_tokens,temperature,metrics\n"
                      f"tiny-qwen2-vl,{text_dataset},4,6,0,exact_match\n")
    local, docker = _run_both(config, tmp_path, [catalog])
    assert len(docker["tiny-qwen2-vl"]) == 4
    assert all(error is None and answer is not None for _, _, answer, error in docker["tiny-qwen2-vl"])
    assert docker == local


def test_files_written_in_the_container_belong_to_the_invoking_user(cpu_image, docker_client,
                                                                    no_leftover_containers):
    """`vlmbench run` started by a non-root user (uid 4321 when the tests run as root)."""
    uid, gid = os.getuid(), os.getgid()
    prefix: list[str] = []
    if uid == 0:
        if not shutil.which("setpriv"):
            pytest.skip("setpriv is needed to run as another user")
        uid = gid = 4321
        prefix = ["setpriv", f"--reuid={uid}", f"--regid={gid}",
                  f"--groups={os.stat('/var/run/docker.sock').st_gid}"]
    work = Path(tempfile.mkdtemp(prefix="vlmbench-uid-"))  # outside pytest's root-only tmp folders
    try:
        dataset = make_text_dataset(work / "words", WORDS[:2])
        config = work / "run.csv"
        config.write_text(f"model_name,dataset,metrics\ntesseract-eng,{dataset},CER\n")
        for path in [work, *work.rglob("*")]:
            os.chown(path, uid, gid)
        env = {**os.environ, "HOME": str(work), "VLMBENCH_DATA_DIR": str(work / "data")}
        result = subprocess.run([*prefix, sys.executable, "-m", "vlmbench", "run", str(config),
                                 "--executor", "docker", "--out", str(work / "out")],
                                check=False, capture_output=True, text=True, env=env, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        [job_dir] = (work / "out" / "jobs").iterdir()
        written = [job_dir / name for name in ("job.json", "status.json", "predictions.jsonl", "worker.log")]
        assert {(path.stat().st_uid, path.stat().st_gid) for path in written} == {(uid, gid)}
        assert len(JobDir(job_dir).read_predictions()) == 2
    finally:
        shutil.rmtree(work, ignore_errors=True)
