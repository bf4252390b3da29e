"""What goes wrong on a real engine, and what the user is then told and left with."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import WORDS, make_text_dataset
from tests.docker.conftest import CPU_IMAGE, extra_catalog, labelled_containers
from vlmbench.rundir import JobDir

pytestmark = [pytest.mark.docker, pytest.mark.integration, pytest.mark.slow]


def _slow_echo_setup(tmp_path: Path, delay_s: float = 0.4, names: tuple[str, ...] = ("slow",)) -> tuple[Path, Path]:
    """A run CSV of echo models that answer one sample every `delay_s` inside vlmbench/cpu."""
    dataset = make_text_dataset(tmp_path / "words", WORDS)
    catalog = extra_catalog(tmp_path / "echo.csv", [
        f'echo,Echo,{name},{CPU_IMAGE},,,echo,,"{{""delay_s"": {delay_s}, ""answer"": ""{name}""}}"'
        for name in names])
    config = tmp_path / "run.csv"
    config.write_text("model_name,dataset,batch_size,metrics\n"
                      + "".join(f"{name},{dataset},1,exact_match\n" for name in names))
    return config, catalog


def _vlmbench(*args: object, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "vlmbench", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True, **kwargs)


def _job_dirs(out: Path) -> dict[str, Path]:
    record = json.loads((out / "run.json").read_text())
    return {job["config_row"]["model_name"]: out / "jobs" / job["job_id"] for job in record["jobs"]}


def _wait_for(predicate, timeout_s: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _predictions_of(out: Path, name: str) -> int:
    try:
        return len(JobDir(_job_dirs(out)[name]).read_predictions())
    except (FileNotFoundError, KeyError, json.JSONDecodeError):
        return 0


def test_a_killed_container_fails_its_job_only_and_a_rerun_resumes(tmp_path, docker_client, cpu_image,
                                                                    no_leftover_containers):
    config, catalog = _slow_echo_setup(tmp_path, names=("victim", "bystander"))
    out = tmp_path / "out"
    args = ("run", config, "--executor", "docker", "--out", out, "--jobs", "2", "--catalog", catalog)
    process = _vlmbench(*args)
    _wait_for(lambda: _predictions_of(out, "victim") >= 3, what="the victim's first predictions")
    victim_dir = _job_dirs(out)["victim"]
    [container] = labelled_containers(docker_client, job_id=victim_dir.name)
    container.kill()
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 1, output

    status = JobDir(victim_dir).read_status()
    assert status.state == "failed" and status.exit_code == 137 and not status.oom
    assert "killed" in status.error
    kept = JobDir(victim_dir).read_predictions()
    assert 3 <= len(kept) < len(WORDS)
    assert JobDir(_job_dirs(out)["bystander"]).read_status().state == "done"

    rerun = _vlmbench(*args)
    output, _ = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, output
    final = JobDir(victim_dir).read_predictions()
    assert [p.id for p in final] == [f"s{i}" for i in range(len(WORDS))]
    assert final[:len(kept)] == kept  # resumed: the answers already written were not redone


def test_sigint_stops_the_run_and_leaves_no_container(tmp_path, docker_client, cpu_image):
    config, catalog = _slow_echo_setup(tmp_path, delay_s=1.0, names=("first", "second"))
    out = tmp_path / "out"
    process = _vlmbench("run", config, "--executor", "docker", "--out", out, "--jobs", "2", "--catalog", catalog)
    _wait_for(lambda: _predictions_of(out, "first") >= 1 and _predictions_of(out, "second") >= 1,
              what="both containers answering")
    run_id = json.loads((out / "run.json").read_text())["run_id"]
    assert len(labelled_containers(docker_client, run_id=run_id)) == 2
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 130, output
    assert labelled_containers(docker_client, run_id=run_id) == []
    for job_dir in _job_dirs(out).values():
        status = JobDir(job_dir).read_status()
        assert status.state == "interrupted", status
        assert 1 <= len(JobDir(job_dir).read_predictions()) < len(WORDS)


def test_a_job_past_its_timeout_is_stopped_and_failed(tmp_path, docker_client, cpu_image, no_leftover_containers):
    config, catalog = _slow_echo_setup(tmp_path, delay_s=1.0)
    out = tmp_path / "out"
    process = _vlmbench("run", config, "--executor", "docker", "--out", out, "--catalog", catalog,
                        env={**os.environ, "VLMBENCH_JOB_TIMEOUT_S": "4"})
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 1, output
    status = JobDir(_job_dirs(out)["slow"]).read_status()
    assert status.state == "failed" and "timed out after 4 s" in status.error
    assert status.failure_class == "timeout"


def test_secrets_reach_the_container_but_no_file_or_command_line(tmp_path, docker_client, cpu_image,
                                                                  no_leftover_containers):
    secret = "hf_not_a_real_token_7f3a9c"
    config, catalog = _slow_echo_setup(tmp_path, delay_s=0.3)
    out = tmp_path / "out"
    process = _vlmbench("run", config, "--executor", "docker", "--out", out, "--catalog", catalog,
                        env={**os.environ, "HF_TOKEN": secret, "SOME_HOST_SECRET": "not-for-containers"})
    _wait_for(lambda: _predictions_of(out, "slow") >= 1, what="the container answering")
    [container] = labelled_containers(docker_client, run_id=json.loads((out / "run.json").read_text())["run_id"])
    config_env = container.attrs["Config"]["Env"]
    assert f"HF_TOKEN={secret}" in config_env
    assert not any(v.startswith("SOME_HOST_SECRET=") for v in config_env)
    assert secret not in " ".join(container.attrs["Args"] + [container.attrs["Path"]])
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output
    for path in out.rglob("*"):
        if path.is_file():
            assert secret not in path.read_text(errors="replace"), path


def _run_cli(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vlmbench", *map(str, args)], check=False, capture_output=True,
                          text=True)


def test_a_missing_image_is_reported_before_anything_starts(tmp_path, docker_client):
    dataset = make_text_dataset(tmp_path / "words", WORDS[:2])
    catalog = extra_catalog(tmp_path / "c.csv", ["echo,Echo,ghost,vlmbench/cpu:0.0.0-missing,,,echo,,"])
    config = tmp_path / "run.csv"
    config.write_text(f"model_name,dataset\nghost,{dataset}\n")
    for command in ("validate", "run"):  # validate asks the executor as run does
        result = _run_cli(command, config, "--executor", "docker", "--out", tmp_path / "out", "--catalog", catalog)
        assert result.returncode == 2
        assert "vlmbench/cpu:0.0.0-missing" in result.stderr and "vlmbench build-images cpu" in result.stderr
        assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()


def test_gpus_on_an_engine_without_nvidia_runtime_are_refused_clearly(tmp_path, docker_client, cpu_image):
    dataset = make_text_dataset(tmp_path / "words", WORDS[:2])
    config = tmp_path / "run.csv"
    config.write_text(f"model_name,dataset\ntesseract-eng,{dataset}\n")
    for command in ("validate", "run"):
        result = _run_cli(command, config, "--executor", "docker", "--gpus", "0", "--out", tmp_path / "out")
        assert result.returncode == 2
        assert "no NVIDIA runtime" in result.stderr and "nvidia-ctk" in result.stderr
        assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()


def test_a_container_out_of_memory_is_reported_as_such(tmp_path, docker_client, cpu_image, no_leftover_containers):
    from PIL import Image

    # A 9000 x 9000 page: a small PNG, but 400 MB once decoded to RGB. Anonymous memory
    # cannot be reclaimed, so under a 160 MB cap the kernel kills the worker at once.
    dataset = make_text_dataset(tmp_path / "words", WORDS[:1])
    Image.new("L", (9000, 9000), 255).save(dataset / "images" / "0.png")
    catalog = extra_catalog(tmp_path / "echo.csv", [f"echo,Echo,echo-oom,{CPU_IMAGE},,,echo,,"])
    config = tmp_path / "run.csv"
    config.write_text(f"model_name,dataset,metrics\necho-oom,{dataset},exact_match\n")
    out = tmp_path / "out"
    process = _vlmbench("run", config, "--executor", "docker", "--out", out, "--catalog", catalog,
                        env={**os.environ, "VLMBENCH_DOCKER_MEMORY": "160m"})
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 1, output
    status = JobDir(_job_dirs(out)["echo-oom"]).read_status()
    assert (status.state, status.exit_code, status.oom) == ("failed", 137, True)
    assert status.error.startswith("out of memory")
