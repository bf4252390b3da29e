"""The lock-down of a job's container, seen on a real engine: from the engine's record and from inside.

A slow echo job keeps its container running while the test reads its
HostConfig and runs a probe in it (``docker exec``, same user and the same
namespaces) that reports what the worker process has: capabilities,
no-new-privileges, which places it can write, its PID limit, network
interfaces and environment. These tests check only their own run's
containers, so that they can run beside other docker tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import WORDS, make_text_dataset
from tests.docker.conftest import CPU_IMAGE, extra_catalog, labelled_containers
from vlmbench.docker.jobs import ENV_ALLOW_LIST, PIDS_LIMIT
from vlmbench.rundir import JobDir

pytestmark = [pytest.mark.docker, pytest.mark.integration, pytest.mark.slow]

SECRETS = {"HF_TOKEN": "hf_lockdown_fake_token_51c2e8", "OPENAI_API_KEY": "sk-lockdown-fake-key-9d04b7"}
OURS = {"HF_HOME", "HOME", "USER", "PYTHONUNBUFFERED", "VLMBENCH_IMAGE"}

# Run in the container next to the worker; prints one JSON line.
PROBE = r"""
import errno, json, os, socket
def argv(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return [a.decode() for a in f.read().split(b"\0") if a]
[worker] = [p for p in os.listdir("/proc") if p.isdigit() and p != str(os.getpid())
            and "worker" in argv(p) and "docker-init" not in argv(p)[0]]
status = dict(line.split(":\t", 1) for line in open(f"/proc/{worker}/status").read().splitlines() if ":\t" in line)
with open(f"/proc/{worker}/environ", "rb") as f:
    env = dict(e.decode().split("=", 1) for e in f.read().split(b"\0") if e)
writes = {}
for place in ("/", "/usr/lib", "/etc", "/dataset", "/weights", "/job", "/tmp", "/cache/huggingface"):
    try:
        path = os.path.join(place, ".lockdown-probe")
        open(path, "w").close()
        os.remove(path)
        writes[place] = "ok"
    except OSError as exc:
        writes[place] = errno.errorcode[exc.errno]
pids = next((open(p).read().strip() for p in ("/sys/fs/cgroup/pids.max", "/sys/fs/cgroup/pids/pids.max")
             if os.path.exists(p)), None)
try:
    socket.create_connection(("1.1.1.1", 53), timeout=3).close()
    outside = "connected"
except OSError as exc:
    outside = type(exc).__name__ + ": " + str(exc)
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(1)
socket.create_connection(server.getsockname(), timeout=3).close()
print(json.dumps({"caps": {k: status[k].strip() for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")},
                  "no_new_privs": status["NoNewPrivs"].strip(), "uid": status["Uid"].split()[0],
                  "env": env, "writes": writes, "pids_max": pids, "interfaces": sorted(os.listdir("/sys/class/net")),
                  "outside": outside,
                  "docker_socket": [p for p in ("/var/run/docker.sock", "/run/docker.sock") if os.path.exists(p)]}))
"""


def _vlmbench(*args: object, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "vlmbench", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True, env=env)


def _wait_for(predicate, timeout_s: float = 90.0, what: str = "condition"):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _job_dir(out: Path) -> Path | None:
    try:
        [job] = json.loads((out / "run.json").read_text())["jobs"]
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return out / "jobs" / job["job_id"]


def _answered(out: Path) -> bool:
    job_dir = _job_dir(out)
    try:
        return job_dir is not None and len(JobDir(job_dir).read_predictions()) >= 1
    except (FileNotFoundError, json.JSONDecodeError):
        return False


def _run_id(out: Path) -> str:
    return json.loads((out / "run.json").read_text())["run_id"]


def _assert_no_secret_under(out: Path, output: str) -> None:
    for value in SECRETS.values():
        assert value not in output, "a secret in the run's console output"
        for path in out.rglob("*"):
            if path.is_file():
                assert value.encode() not in path.read_bytes(), f"a secret in {path}"


def test_a_running_jobs_container_is_locked_down(tmp_path, docker_client, cpu_image):
    weights = tmp_path / "weights"
    weights.mkdir()
    (weights / "config.json").write_text("{}")
    dataset = make_text_dataset(tmp_path / "words", WORDS)
    catalog = extra_catalog(tmp_path / "echo.csv", [
        f'echo,Echo,slow,{CPU_IMAGE},,,echo,{weights},"{{""delay_s"": 1.0, ""answer"": ""slow""}}"'])
    config = tmp_path / "run.csv"
    config.write_text(f"model_name,dataset,batch_size,metrics\nslow,{dataset},1,exact_match\n")
    out = tmp_path / "out"
    env = {**os.environ, **SECRETS, "SOME_HOST_SECRET": "not-for-containers"}
    env.pop("VLMBENCH_DOCKER_NETWORK", None)
    process = _vlmbench("run", config, "--executor", "docker", "--out", out, "--catalog", catalog, env=env)
    try:
        _wait_for(lambda: _answered(out), what="the container answering")
        [container] = labelled_containers(docker_client, run_id=_run_id(out))
        host = container.attrs["HostConfig"]
        probe = container.exec_run(["python", "-c", PROBE])
        assert probe.exit_code == 0, probe.output.decode()
        seen = json.loads(probe.output.decode().strip().splitlines()[-1])
        output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
        for container in labelled_containers(docker_client, run_id=_run_id(out)) if (out / "run.json").exists() else []:
            container.remove(force=True)

    # The engine's record of the container
    assert host["Privileged"] is False
    assert host["CapDrop"] == ["ALL"] and not host["CapAdd"]
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert host["ReadonlyRootfs"] is True and set(host["Tmpfs"]) == {"/tmp"}
    assert host["PidsLimit"] == PIDS_LIMIT
    assert host["NetworkMode"] == "none"
    mounts = {m["Target"]: m for m in host["Mounts"]}
    assert not any("docker.sock" in m["Source"] for m in mounts.values())
    assert {target: m.get("ReadOnly", False) for target, m in mounts.items()} == {
        "/job": False, "/dataset": True, "/weights": True, "/cache/huggingface": False}
    # ... and what the worker process has
    assert set(seen["caps"].values()) == {"0000000000000000"}, seen["caps"]
    assert seen["no_new_privs"] == "1" and seen["uid"] == str(os.getuid())
    assert seen["writes"] == {"/": "EROFS", "/usr/lib": "EROFS", "/etc": "EROFS", "/dataset": "EROFS",
                              "/weights": "EROFS", "/job": "ok", "/tmp": "ok", "/cache/huggingface": "ok"}
    assert seen["pids_max"] == str(PIDS_LIMIT)
    assert seen["interfaces"] == ["lo"] and seen["outside"] != "connected"
    assert seen["docker_socket"] == []
    # Besides the allow-list and ours: the image's own ENV lines and the engine's HOSTNAME.
    image_env = {line.split("=", 1)[0] for line in docker_client.images.get(CPU_IMAGE).attrs["Config"]["Env"]}
    names, allowed = set(seen["env"]), {*ENV_ALLOW_LIST, *OURS, *image_env, "HOSTNAME"}
    assert names <= allowed, names - allowed
    assert "SOME_HOST_SECRET" not in names
    assert {name: seen["env"][name] for name in SECRETS} == SECRETS  # through the engine's API
    # The job still runs to its end under the lock-down, and no secret is left in a file or log.
    assert process.returncode == 0, output
    job_dir = _job_dir(out)
    status = JobDir(job_dir).read_status()
    assert status.state == "done" and status.n_done == len(WORDS) and status.n_errors == 0
    assert [p.answer for p in JobDir(job_dir).read_predictions()] == ["slow"] * len(WORDS)
    _assert_no_secret_under(out, output)
    assert not labelled_containers(docker_client, run_id=_run_id(out))


def test_tesseract_under_the_lockdown_scores_and_leaves_no_secret(tmp_path, docker_client, cpu_image):
    """A real OCR job with fake keys in the host's environment: it reads the words, no file or log holds a key."""
    dataset = make_text_dataset(tmp_path / "words", WORDS[:3])
    config = tmp_path / "run.csv"
    config.write_text(f"model_name,dataset,metrics\ntesseract-eng,{dataset},CER\n")
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "vlmbench", "run", str(config), "--executor", "docker",
                             "--out", str(out)], check=False, capture_output=True, text=True, timeout=300,
                            env={**os.environ, **SECRETS})
    assert result.returncode == 0, result.stdout + result.stderr
    job_dir = _job_dir(out)
    answers = [p.answer.strip().lower() for p in JobDir(job_dir).read_predictions()]
    assert answers == WORDS[:3]
    rows = json.loads((job_dir / "metrics.json").read_text())["rows"]
    [general] = [row for row in rows if row["metric"] == "cer" and row["aggregator"] == "general"]
    assert general["value"] == 0.0 and general["n"] == 3
    _assert_no_secret_under(out, result.stdout + result.stderr)
    assert not labelled_containers(docker_client, run_id=_run_id(out))
