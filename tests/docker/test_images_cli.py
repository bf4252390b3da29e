"""`vlmbench build-images` and `pull-images` on a real engine, pulling from a real local registry."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
import time
import urllib.request

import pytest
import typer
from typer.testing import CliRunner

from tests.docker.conftest import CPU_IMAGE
from vlmbench.cli import images
from vlmbench.cli.app import FriendlyErrors

pytestmark = [pytest.mark.docker, pytest.mark.integration, pytest.mark.slow]

REGISTRY_PORT = 5055
app = typer.Typer(cls=FriendlyErrors)
images.register(app)


def invoke(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False, env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def local_registry(tmp_path_factory, docker_client):
    """Debian's docker-registry (the reference registry) on 127.0.0.1, which the engine trusts without TLS."""
    if not shutil.which("docker-registry"):
        if os.getuid() != 0:
            pytest.skip("docker-registry is not installed (apt-get install docker-registry)")
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "docker-registry"],
                       check=True, capture_output=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    folder = tmp_path_factory.mktemp("registry")
    config = folder / "config.yml"
    config.write_text(f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {folder / 'data'}\n"
                      f"http:\n  addr: 127.0.0.1:{REGISTRY_PORT}\n")
    server = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{REGISTRY_PORT}/v2/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield f"localhost:{REGISTRY_PORT}"
    finally:
        server.terminate()
        server.wait(10)


def _pushed_tiny_image(client, registry: str) -> str:
    """A two-megabyte image in the registry and not in the engine, so that pulling it downloads."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        payload = os.urandom(2 * 1024 * 1024)
        info = tarfile.TarInfo("payload.bin")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    name = f"{registry}/vlmbench-test/tiny:1"
    client.api.import_image_from_data(buffer.getvalue(), repository=f"{registry}/vlmbench-test/tiny", tag="1")
    for line in client.images.push(name, stream=True, decode=True):
        assert "error" not in line, line
    client.images.remove(name, force=True)
    return name


def test_pull_images_pulls_each_image_once_and_goes_on_past_a_failure(tmp_path, docker_client, local_registry):
    tiny = _pushed_tiny_image(docker_client, local_registry)
    config = tmp_path / "run.csv"
    config.write_text("model_name,dataset,docker_image\n"
                      f"tesseract-eng,synthetic-docs-en,{tiny}\n"
                      "tesseract-rus,synthetic-docs-en,vlmbench/vllm:0.0.1-missing\n"
                      f"tesseract-rus-eng,synthetic-docs-en,{tiny}\n")
    result = invoke("pull-images", "--config", config)
    assert result.exit_code == 1, result.output
    assert "2 image(s)" in result.output  # the same image in two rows is pulled once
    failed = [line for line in result.output.splitlines() if "vlmbench/vllm:0.0.1-missing" in line]
    assert failed and "failed" in result.output and "build-images vllm" in result.output
    assert "pulled sha256:" in result.output
    assert "pull complete" in result.output  # the layer's bar reached its end
    assert docker_client.images.get(tiny).id
    docker_client.images.remove(tiny, force=True)


def test_pull_images_needs_to_be_told_what(docker_client):
    result = invoke("pull-images")
    assert result.exit_code == 2 and "--all" in result.output


def test_pull_images_refuses_an_unknown_model_before_pulling(docker_client):
    result = invoke("pull-images", "tesseract-engl")
    assert result.exit_code == 2 and "unknown model 'tesseract-engl'" in result.output
    assert "tesseract-eng" in result.output


def test_build_images_builds_the_cpu_image_from_cache(cpu_image, docker_client):
    before = docker_client.images.get(CPU_IMAGE).id
    result = invoke("build-images", "cpu")
    assert result.exit_code == 0, result.output
    [row] = [line for line in result.output.splitlines() if CPU_IMAGE in line and "│" in line]  # the table's
    assert "built" in row and "transformers.lock" in row
    assert docker_client.images.get(CPU_IMAGE).id == before  # nothing changed, every layer cached


def test_build_images_refuses_an_unknown_name(docker_client):
    result = invoke("build-images", "gpu")
    assert result.exit_code == 2 and "no image named 'gpu'" in result.output


def test_a_failed_build_names_the_image_and_the_engines_reason(docker_client):
    # No registry answers here, so a base image from one cannot be fetched: the build stops at FROM.
    result = invoke("build-images", "transformers-gpu", "--base", "registry.invalid/no/such:base")
    assert result.exit_code == 1
    assert "failed vlmbench/transformers-gpu:" in result.output and "registry.invalid" in result.output
