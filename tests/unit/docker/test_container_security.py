"""The lock-down a job's container is created with, and when it gets a network: no engine needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from vlmbench.docker.jobs import (
    PIDS_LIMIT,
    ContainerJob,
    Mount,
    exposes_docker_socket,
    network_mode,
)
from vlmbench.errors import ExecutorError
from vlmbench.rundir.records import DatasetRef, JobSpec, ModelRef


def _spec(framework: str = "hf", class_path: str = "vlmbench.models.hf.adapter:HFVisionModel",
          weights: str | None = None, **params: object) -> JobSpec:
    return JobSpec(job_id="j1", run_id="r1", config_row=1, image="vlmbench/cpu:0.1.0",
                   model=ModelRef(model_name="m", framework=framework, class_path=class_path, weights=weights,
                                  params=params),
                   dataset=DatasetRef(name="d", path="/data/d", fingerprint="f"))


def test_jobs_that_reach_nothing_beyond_their_container_get_no_network(tmp_path):
    tesseract = _spec("tesseract", "vlmbench.models.tesseract:TesseractOCR", lang="eng")
    assert network_mode(tesseract, {}) == "none"
    assert network_mode(_spec(weights=str(tmp_path)), {}) == "none"  # local weights, mounted
    assert network_mode(_spec(weights="./weights/tiny"), {}) == "none"
    assert network_mode(_spec(weights="vlmbench:models/easyvqa-tiny"), {}) == "none"  # packaged
    # The vllm-server adapter talks to its own server on the container's loopback.
    server = _spec("vllm-server", "vlmbench.models.vllm_engine:VLLMServerModel", "vlmbench:models/easyvqa-tiny")
    assert network_mode(server, {}) == "none"


def test_endpoints_and_allowed_hub_downloads_get_a_network():
    assert network_mode(_spec("openai", "openai", "gpt-4o-mini"), {}) == "bridge"
    assert network_mode(_spec("OpenAI", "vlmbench.models.openai_api:OpenAICompatibleModel"), {}) == "bridge"
    assert network_mode(_spec("plugin", "my.pkg:Client", base_url="https://api.example.com/v1"), {}) == "bridge"
    hub = _spec(weights="Qwen/Qwen2-VL-2B-Instruct")
    assert network_mode(hub, {}) == "bridge"
    assert network_mode(hub, {"HF_HUB_OFFLINE": "0"}) == "bridge"
    # Offline mode forbids downloads: the weights must be in the mounted cache, so no network.
    assert network_mode(hub, {"HF_HUB_OFFLINE": "1"}) == "none"
    assert network_mode(hub, {"TRANSFORMERS_OFFLINE": "true"}) == "none"
    # An endpoint needs the network whatever the hub settings.
    assert network_mode(_spec("openai", "openai"), {"HF_HUB_OFFLINE": "1"}) == "bridge"


def test_the_network_variable_overrides_the_decision():
    assert network_mode(_spec(), {}, override="bridge") == "bridge"
    assert network_mode(_spec(weights="Qwen/Qwen2-VL-2B-Instruct"), {}, override=" none ") == "none"
    assert network_mode(_spec(), {}, override="  ") == "none"


def test_security_locks_the_container_down(tmp_path):
    job = ContainerJob(_spec(weights=str(tmp_path / "w")), tmp_path / "job", tmp_path / "data", tmp_path / "cache")
    security = job.security(host={})
    assert security["privileged"] is False and security["cap_drop"] == ["ALL"]
    assert security["security_opt"] == ["no-new-privileges"] and security["read_only"] is True
    assert set(security["tmpfs"]) == {"/tmp"} and "exec" in security["tmpfs"]["/tmp"].split(",")
    assert security["pids_limit"] == PIDS_LIMIT >= 1024
    assert security["network_mode"] == "none"
    assert job.environment(host={})["HOME"] == "/tmp"  # the scratch tmpfs
    online = ContainerJob(_spec(weights="Qwen/Qwen2-VL-2B-Instruct"), tmp_path, tmp_path, tmp_path)
    assert online.security(host={})["network_mode"] == "bridge"
    assert online.security(host={"VLMBENCH_DOCKER_NETWORK": "none"})["network_mode"] == "none"


def test_the_dataset_and_local_weights_are_read_only(tmp_path):
    (tmp_path / "w").mkdir()
    job = ContainerJob(_spec(weights=str(tmp_path / "w")), tmp_path / "job", tmp_path / "data", tmp_path / "cache")
    modes = {m.target: m.read_only for m in job.mounts}
    assert modes == {"/job": False, "/dataset": True, "/weights": True, "/cache/huggingface": False}
    assert all(m["ReadOnly"] == modes[m["Target"]] for m in job.docker_mounts())


def test_the_docker_socket_is_never_mounted(tmp_path, monkeypatch):
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    assert exposes_docker_socket(Path("/var/run/docker.sock")) and exposes_docker_socket(Path("/var/run"))
    assert exposes_docker_socket(Path("/run")) and exposes_docker_socket(Path("/"))
    assert not exposes_docker_socket(tmp_path) and not exposes_docker_socket(Path("/var/lib"))
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/engine/docker.sock")
    assert exposes_docker_socket(tmp_path / "engine")
    job = ContainerJob(_spec(), tmp_path / "job", tmp_path / "data", tmp_path / "cache")
    job.mounts.append(Mount(Path("/var/run"), "/weights", read_only=True))
    with pytest.raises(ExecutorError, match="Docker socket"):
        job.docker_mounts()


def test_secrets_reach_the_container_only_through_its_environment(tmp_path):
    host = {"HF_TOKEN": "hf_secret", "OPENAI_API_KEY": "sk-secret", "VLMBENCH_API_KEY": "vk", "MY_KEY": "mine",
            "AWS_SECRET_ACCESS_KEY": "no"}
    job = ContainerJob(_spec("openai", "openai", api_key_env="MY_KEY"), tmp_path, tmp_path, tmp_path)
    environment = job.environment(host)
    assert {name: environment[name] for name in ("HF_TOKEN", "OPENAI_API_KEY", "VLMBENCH_API_KEY", "MY_KEY")} == {
        "HF_TOKEN": "hf_secret", "OPENAI_API_KEY": "sk-secret", "VLMBENCH_API_KEY": "vk", "MY_KEY": "mine"}
    assert "AWS_SECRET_ACCESS_KEY" not in environment
    assert job.write_job_file() == "/job/container-job.json"
    text = (tmp_path / "container-job.json").read_text()
    assert not any(secret in text for secret in ("hf_secret", "sk-secret", "vk\"", "mine"))
