"""The batch script's container command lines, checked against what each runtime's documentation specifies.

docker run / podman run: --mount type=bind,source=,target=[,readonly]; --env NAME (value from the
caller's environment) and --env NAME=VALUE; --gpus "device=0,1" (docker) or CDI --device
nvidia.com/gpu=N (podman). apptainer exec: --bind src:dst[:ro] (comma-separated), --containall,
--cleanenv (then only APPTAINERENV_-prefixed variables pass), --nv for NVIDIA GPUs, a .sif or a
docker-daemon:// image. pyxis (srun): --container-image, --container-mounts=src:dst[:ro],...,
--container-workdir, --no-container-mount-home, --no-container-remap-root.
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from vlmbench.docker.jobs import ContainerJob
from vlmbench.errors import ConfigError
from vlmbench.rundir.records import DatasetRef, JobSpec, ModelRef
from vlmbench.shards import Shard
from vlmbench.slurm.containers import ContainerLaunch, container_runtime, sif_name

HOST = {"HF_TOKEN": "hf_secret", "OPENAI_API_KEY": "sk-secret", "PATH": "/usr/bin", "AWS_SECRET_ACCESS_KEY": "x"}


def launch(tmp_path: Path, runtime: str, shard: Shard | None = None, weights: str | None = None) -> ContainerLaunch:
    spec = JobSpec(job_id="abc123", run_id="run-1", config_row=1, image="vlmbench/cpu:0.1.0",
                   model=ModelRef(model_name="m", framework="hf", class_path="hf", weights=weights),
                   dataset=DatasetRef(name="d", path=str(tmp_path / "data"), fingerprint="f"))
    (tmp_path / "data").mkdir(exist_ok=True)
    job = ContainerJob(spec, tmp_path / "jobs" / "abc123", tmp_path / "data", tmp_path / "cache")
    return ContainerLaunch(runtime, job, job_file=job.job_file, user="1000:1000", shard=shard)


def test_docker_run_mounts_locks_down_and_passes_secrets_by_name(tmp_path):
    words = launch(tmp_path, "docker", Shard(2, 3)).engine_run(HOST)
    text = shlex.join(words)
    assert words[:3] == ["docker", "run", "--rm"] and ["--pull", "never"] == words[3:5]
    assert f"type=bind,source={tmp_path}/jobs/abc123,target=/job" in words
    assert f"type=bind,source={tmp_path}/data,target=/dataset,readonly" in words
    assert f"type=bind,source={tmp_path}/cache,target=/cache/huggingface" in words
    for option in (["--cap-drop", "ALL"], ["--security-opt", "no-new-privileges"], ["--user", "1000:1000"],
                   ["--network", "none"], ["--env", "HF_TOKEN"], ["--env", "OPENAI_API_KEY"],
                   ["--env", "HF_HOME=/cache/huggingface"], ["--label", "vlmbench.shard=2/3"]):
        assert any(words[i:i + 2] == option for i in range(len(words))), option
    assert "--read-only" in words and "--init" in words
    assert "hf_secret" not in text and "sk-secret" not in text and "AWS_SECRET" not in text
    assert words[-8:] == ["--entrypoint", "vlmbench", "$gpus", "vlmbench/cpu:0.1.0", "worker",
                          "/job/container-job.json", "--shard", "2/3"]


def test_local_weights_are_mounted_read_only_and_hub_weights_get_a_network(tmp_path):
    (tmp_path / "w").mkdir()
    local = launch(tmp_path, "podman", weights=str(tmp_path / "w")).engine_run({})
    assert f"type=bind,source={tmp_path}/w,target=/weights,readonly" in local
    hub = launch(tmp_path, "podman", weights="org/model").engine_run({})
    assert hub[hub.index("--network") + 1] == "bridge"


@pytest.mark.parametrize(("runtime", "gpus"), [("docker", '--gpus "device=$SLURM_JOB_GPUS"'),
                                                ("podman", '--device "nvidia.com/gpu=$device"')])
def test_the_engine_script_takes_the_allocation_s_gpus_stops_on_scancel_and_is_valid_bash(tmp_path, runtime, gpus):
    lines = launch(tmp_path, runtime).script_lines(HOST)
    script = "\n".join(lines)
    assert gpus in script and "SLURM_JOB_GPUS" in script
    assert f"trap '{runtime} stop --time 10 \"$name\"" in script and 'exit "$code"' in script
    assert '"${gpus[@]}"' in script and '--name "$name"' in script
    assert "hf_secret" not in script
    assert subprocess.run(["bash", "-n"], input=script, text=True, check=False).returncode == 0


def test_apptainer_binds_cleans_the_environment_and_takes_a_sif_when_there_is_one(tmp_path):
    plain = launch(tmp_path, "apptainer")
    words = plain.apptainer_command({})
    assert words[:2] == ["apptainer", "exec"] and "--containall" in words and "--cleanenv" in words
    binds = words[words.index("--bind") + 1].split(",")
    assert f"{tmp_path}/data:/dataset:ro" in binds and f"{tmp_path}/jobs/abc123:/job" in binds
    assert words[words.index("--pwd") + 1] == "/job"
    assert "docker-daemon://vlmbench/cpu:0.1.0" in words
    (tmp_path / "sifs").mkdir()
    (tmp_path / "sifs" / sif_name("vlmbench/cpu:0.1.0")).write_bytes(b"")
    assert sif_name("vlmbench/cpu:0.1.0") == "vlmbench_cpu_0.1.0.sif"
    assert str(tmp_path / "sifs" / "vlmbench_cpu_0.1.0.sif") in plain.apptainer_command(
        {"VLMBENCH_SIF_DIR": str(tmp_path / "sifs")})
    script = "\n".join(plain.script_lines(HOST))
    assert 'export APPTAINERENV_HF_TOKEN="$HF_TOKEN"' in script and "hf_secret" not in script
    assert "nv=(--nv)" in script and '"${nv[@]}"' in script
    assert "SINGULARITYENV_HF_TOKEN" in "\n".join(launch(tmp_path, "singularity").script_lines(HOST))
    assert subprocess.run(["bash", "-n"], input=script, text=True, check=False).returncode == 0


def test_pyxis_runs_an_srun_step_in_the_image(tmp_path):
    words = launch(tmp_path, "pyxis", Shard(1, 2)).pyxis_command(HOST)
    assert words[0] == "srun" and "--container-image=vlmbench/cpu:0.1.0" in words
    mounts = next(w for w in words if w.startswith("--container-mounts=")).removeprefix("--container-mounts=")
    assert f"{tmp_path}/data:/dataset:ro" in mounts.split(",")
    assert "--container-workdir=/job" in words and "--no-container-mount-home" in words
    assert next(w for w in words if w.startswith("--export=")).startswith("--export=ALL,")
    assert words[-5:] == ["vlmbench", "worker", "/job/container-job.json", "--shard", "1/2"]
    assert "hf_secret" not in shlex.join(words)


def test_a_runtime_is_named_or_suggested(monkeypatch):
    monkeypatch.delenv("VLMBENCH_CONTAINER_RUNTIME", raising=False)
    assert container_runtime(None) is None and container_runtime(" Docker ") == "docker"
    assert container_runtime("none") is None
    monkeypatch.setenv("VLMBENCH_CONTAINER_RUNTIME", "podman")
    assert container_runtime(None) == "podman"
    with pytest.raises(ConfigError, match="unknown container runtime 'dokcer'") as error:
        container_runtime("dokcer")
    assert "docker" in str(error.value)
