"""The same run CSV on every executor, sharded or not, in Slurm jobs directly and in containers: the same answers.

The Slurm runs go through the real one-node cluster; in containers, each
batch job starts the job's image with the node's Docker Engine or Podman.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import WORDS, make_text_dataset
from tests.docker.conftest import CPU_IMAGE, labelled_containers
from vlmbench.rundir import RunDir
from vlmbench.runner import RunOptions, run

pytestmark = [pytest.mark.integration, pytest.mark.slurm, pytest.mark.docker, pytest.mark.slow]

SECRET = "hf_fake_secret_for_the_slurm_container_test"


def answers(out: Path) -> dict[str, list[tuple]]:
    """Per model: (id, prompt, answer, error) of every sample, in id order."""
    record = RunDir(out).read_record()
    return {job.config_row["model_name"]: sorted((p.id, p.prompt, p.answer, p.error)
                                                 for p in RunDir(out).job(job.job_id).read_predictions())
            for job in record.jobs}


@pytest.fixture
def smoke(tmp_path: Path) -> tuple[Path, Path]:
    """A smoke run CSV: an echo model over rendered words and Tesseract over three synthetic pages."""
    words = make_text_dataset(tmp_path / "words", WORDS[:6])
    catalog = tmp_path / "catalog.csv"
    catalog.write_text("framework,model_family,model_name,docker_image,python_package,module,class_name\n"
                       f"echo,Echo,echo-test,{CPU_IMAGE},,,echo\n")
    config = tmp_path / "smoke.csv"
    config.write_text("model_name,dataset,filter_question_type,limit,metrics\n"
                      f"echo-test,{words},,,exact_match\n"
                      "tesseract-eng,synthetic-docs-en,full_text,3,CER\n")
    return config, catalog


def test_one_run_csv_gives_the_same_answers_on_every_executor_sharded_or_not(
        tmp_path, smoke, cpu_image, podman_image, slurm_cluster, no_leftover_slurm_jobs, docker_client,
        monkeypatch):
    config, catalog = smoke
    monkeypatch.setenv("HF_TOKEN", SECRET)  # allow-listed: it reaches the containers, never a file
    ways = {
        "local": RunOptions(executor="local"),
        "local-2": RunOptions(executor="local", shards=2),
        "docker-2": RunOptions(executor="docker", shards=2),
        "slurm": RunOptions(executor="slurm"),
        "slurm-2": RunOptions(executor="slurm", shards=2),
        "slurm-docker": RunOptions(executor="slurm", container_runtime="docker"),
        "slurm-podman-2": RunOptions(executor="slurm", container_runtime="podman", shards=2),
    }
    found = {}
    for name, options in ways.items():
        options.out, options.catalogs = tmp_path / name, [catalog]
        outcome = run(config, options)
        assert outcome.exit_code == 0, (name, {k: (s.state, s.error) for k, s in outcome.statuses.items()})
        found[name] = answers(options.out)
    reference = found.pop("local")
    assert len(reference["echo-test"]) == 6 and len(reference["tesseract-eng"]) == 3
    assert all(answer and error is None for _, _, answer, error in reference["tesseract-eng"])
    for name, seen in found.items():
        assert seen == reference, name

    # In containers: each batch job ran the image through its runtime, as its script and log show.
    for name, runtime in (("slurm-docker", "docker"), ("slurm-podman-2", "podman")):
        record = json.loads(RunDir(tmp_path / name).record_file.read_text())
        assert record["container_runtime"] == runtime
        for job in RunDir(tmp_path / name).worker_dirs():
            if not job.batch_script.exists():
                continue  # a sharded job's own folder: its shards have the scripts
            script = " ".join(job.batch_script.read_text().replace("\\\n", " ").split())
            assert f"{runtime} run --rm --pull never" in script and CPU_IMAGE in script
            assert "--env HF_TOKEN --" in script  # by name: the value stays in the job's environment
            log = job.log_file.read_text()
            assert "vlmbench: Slurm job " in log and "Traceback" not in log
        shards = [s for job in RunDir(tmp_path / name).job_dirs() for s in job.shard_dirs()]
        assert len(shards) == (4 if name.endswith("-2") else 0)
    # No secret value in any file of any run, and no container left behind.
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.stat().st_size < 10_000_000:
            assert SECRET.encode() not in path.read_bytes(), path
    assert not labelled_containers(docker_client)
    assert os.popen("podman ps -aq --filter label=vlmbench.managed=true").read().strip() == ""
