"""What `list-models` asks of this host: the engine's images over its socket, the GPUs' memory, each row."""

from __future__ import annotations

import json
import os
import socketserver
import stat
import tempfile
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from vlmbench.catalog import CatalogRow
from vlmbench.runs_here import engine_image_tags, gpu_memory_gb, runs_here, runs_locally

IMAGES = [
    {"RepoTags": ["vlmbench/cpu:0.1.0", "vlmbench/cpu:latest"], "RepoDigests": []},
    {"RepoTags": ["<none>:<none>"], "RepoDigests": ["<none>@<none>"]},
    {"RepoTags": None, "RepoDigests": ["ghcr.io/org/vllm@sha256:abc"]},
]


class _UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def _serve(path: Path, status: int, body: bytes) -> _UnixHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the name http.server calls
            self.send_response(status if self.path == "/images/json" else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = _UnixHTTPServer(str(path), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def engine(monkeypatch):
    """An HTTP server on a Unix socket, answering /images/json as the Docker Engine's API does."""
    servers = []
    folder = tempfile.TemporaryDirectory(dir="/tmp")  # a socket path holds at most 107 bytes

    def start(status: int = 200, body: bytes = json.dumps(IMAGES).encode()) -> None:
        path = Path(folder.name) / f"engine{len(servers)}.sock"
        servers.append(_serve(path, status, body))
        monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
    folder.cleanup()


def test_the_engines_tags_and_digests_are_read_over_its_socket(engine):
    engine()
    assert engine_image_tags() == {"vlmbench/cpu:0.1.0", "vlmbench/cpu:latest", "ghcr.io/org/vllm@sha256:abc"}


@pytest.mark.parametrize(("status", "body"), [(500, b'{"message": "boom"}'), (200, b"not json"), (200, b"{}")])
def test_an_engine_that_answers_badly_is_unknown(engine, status, body):
    engine(status, body)
    assert engine_image_tags() is None


def test_no_engine_is_unknown(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/missing.sock")
    assert engine_image_tags() is None


@pytest.fixture
def nvidia_smi(tmp_path, monkeypatch):
    """A program named nvidia-smi first on PATH that prints two 80 GB GPUs and records its arguments."""
    script = tmp_path / "bin" / "nvidia-smi"
    script.parent.mkdir()
    script.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path}/args\nprintf '81559\\n81559\\n'\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{script.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    return tmp_path / "args"


def test_gpu_memory_sums_the_visible_gpus_in_gb(nvidia_smi, monkeypatch):
    assert gpu_memory_gb() == pytest.approx(2 * 81559 * 1024**2 / 1e9)
    assert "--query-gpu=memory.total" in nvidia_smi.read_text()
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    gpu_memory_gb()
    assert "--id=1" in nvidia_smi.read_text()
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert gpu_memory_gb() == 0.0


def test_no_nvidia_smi_is_no_gpu_memory(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert gpu_memory_gb() == 0.0


def _row(**cells: object) -> CatalogRow:
    return CatalogRow.model_validate({"framework": "baseline", "model_name": "m", "class_name": "MajorityAnswer",
                                      "python_package": "vlmbench", "module": "models.baselines", **cells})


def test_each_row_runs_here_by_an_executor_that_can_and_when_the_gpus_hold_it():
    local = _row(gpu_memory_gb=0)
    not_installed = _row(python_package="no_such_package_here", docker_image="vlmbench/cpu:0.1.0",
                         gpu_memory_gb=8)
    untagged = _row(python_package="no_such_package_here", docker_image="vlmbench/cpu")
    assert runs_locally(local) and not runs_locally(not_installed)
    images = {"vlmbench/cpu:0.1.0", "vlmbench/cpu:latest"}
    first, second, third = runs_here([local, not_installed, untagged], images, gpu_gb=10.0)
    assert (first.ok, first.executors, first.image) == (True, ["local"], None)  # no image named
    assert (second.ok, second.executors, second.gpu_fits) == (True, ["docker"], True)
    assert (third.ok, third.executors) == (True, ["docker"])  # a bare name is the engine's `:latest`
    [small_gpu] = runs_here([not_installed], images, gpu_gb=4.0)
    assert (small_gpu.ok, small_gpu.why_not) == (False, "GPU")
    [no_image] = runs_here([not_installed], set(), gpu_gb=10.0)
    assert (no_image.ok, no_image.why_not, no_image.image) == (False, "pull", False)
    [unknown] = runs_here([not_installed], None, gpu_gb=10.0)
    assert (unknown.ok, unknown.image, unknown.why_not) == (False, None, "no engine")


def test_a_framework_needs_its_packages_for_the_local_executor(monkeypatch):
    import vlmbench.runs_here as module

    row = _row(framework="vllm", python_package="vlmbench", module="models.vllm_engine", class_name="VLLMModel")
    monkeypatch.setattr(module, "FRAMEWORK_PACKAGES", {"vllm": ("no_such_engine_package",)})
    assert not runs_locally(row)
    monkeypatch.setattr(module, "FRAMEWORK_PACKAGES", {"vllm": ("json",)})
    assert runs_locally(row)
