"""VLLMServerModel's lifecycle for real: a child process on a free port, health wait, requests, teardown.

vLLM itself needs a GPU, so ``server_command`` starts vlmbench's own
OpenAI-compatible server in its place; everything around it (process
group, port, /health polling, log tail, stop-then-kill) is the code that
runs vLLM.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import time
import uuid

import pytest
import requests
from typer.testing import CliRunner

from tests.conftest import WORDS, make_text_dataset
from vlmbench.models.base import Request
from vlmbench.models.echo import EchoModel
from vlmbench.models.vllm_engine import VLLMServerModel
from vlmbench.serving.process import ServerStartError

pytestmark = [pytest.mark.integration, pytest.mark.workers]



def our_server(class_path: str) -> list[str]:
    """A server_command that runs vlmbench's OpenAI server in vLLM's place."""
    return ["{python}", "-m", "vlmbench.serving.openai_server", "--class-path", class_path,
            "--weights", "{weights}", "--port", "{port}", "--served-model-name", "{served_model_name}"]


OUR_SERVER = our_server("echo")


def port_is_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def processes_with(marker: str) -> list[str]:
    """Command lines of live processes that contain ``marker`` (read from /proc, nothing is signalled)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{entry}/stat") as handle:
                state = handle.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in command and state != "Z":
            found.append(command)
    return found


def test_server_mode_starts_answers_and_stops_the_child_server(tmp_path):
    log = tmp_path / "server.log"
    model = VLLMServerModel("echo-weights", server_command=OUR_SERVER, served_model_name="served-echo",
                            startup_timeout_s=60, max_concurrency=2, server_log=str(log))
    try:
        port, process = model.port, model.server.process
        assert model.server.running and port_is_open(port)
        listed = requests.get(f"http://127.0.0.1:{port}/v1/models", timeout=5).json()["data"]
        assert [entry["id"] for entry in listed] == ["served-echo"]
        batch = [Request(prompt="text only"), Request(prompt="one image", images=[_image()]),
                 Request(prompt="two images", images=[_image(), _image()], system_prompt="sys")]
        assert model.generate(batch) == EchoModel().generate(batch)
        assert requests.get(f"http://127.0.0.1:{port}/stats", timeout=5).json()["answered"] == 3
    finally:
        model.close()
    assert process.poll() is not None and not port_is_open(port)
    assert "serving 'served-echo'" in log.read_text()


def _image():
    from PIL import Image

    return Image.new("RGB", (12, 8), (40, 80, 120))


@pytest.mark.slow
def test_server_mode_serves_a_transformers_model_from_a_child_process(tmp_path):
    from vlmbench.models.base import GenerationParams
    from vlmbench.models.hf.adapter import HFVisionModel
    from vlmbench.testing import build_tiny_model

    folder = build_tiny_model("llava", tmp_path / "tiny-llava")
    short = GenerationParams(max_new_tokens=6)
    batch = [Request(prompt="What is written?", images=[_image()], params=short),
             Request(prompt="Only text.", system_prompt="Be brief.", params=short)]
    served = VLLMServerModel(str(folder), server_command=our_server("hf"), startup_timeout_s=120,
                             max_concurrency=2)
    try:
        over_http = served.generate(batch)
    finally:
        served.close()
    direct = HFVisionModel(str(folder))
    try:
        assert over_http == [direct.generate([request])[0] for request in batch]
    finally:
        direct.close()
    assert not served.server.running


def test_a_server_that_never_becomes_healthy_times_out_with_its_log_tail_and_is_stopped():
    marker = f"never-healthy-{uuid.uuid4().hex}"
    script = f"import time; print('loading weights for {marker}', flush=True); time.sleep(120)"
    start = time.monotonic()
    with pytest.raises(ServerStartError) as caught:
        VLLMServerModel("w", server_command=[sys.executable, "-c", script], startup_timeout_s=1.5)
    assert time.monotonic() - start < 10
    assert "not healthy" in str(caught.value) and f"loading weights for {marker}" in str(caught.value)
    assert processes_with(marker) == []


def test_a_server_that_exits_during_start_up_is_reported_at_once_with_its_output():
    script = "import sys; print('CUDA error: no kernel image is available', flush=True); sys.exit(3)"
    start = time.monotonic()
    with pytest.raises(ServerStartError) as caught:
        VLLMServerModel("w", server_command=[sys.executable, "-c", script], startup_timeout_s=60)
    assert time.monotonic() - start < 10
    assert "exited with code 3" in str(caught.value) and "no kernel image" in str(caught.value)


STUBBORN_SERVER = """
import signal, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
signal.signal(signal.SIGTERM, signal.SIG_IGN)
class Health(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
HTTPServer(("127.0.0.1", int(sys.argv[1])), Health).serve_forever()
"""


def test_close_kills_a_server_that_ignores_sigterm():
    model = VLLMServerModel("w", server_command=[sys.executable, "-c", STUBBORN_SERVER, "{port}"],
                            stop_timeout_s=0.5, startup_timeout_s=30)
    process = model.server.process
    start = time.monotonic()
    model.close()
    assert time.monotonic() - start < 5
    assert process.returncode == -9  # SIGKILL after the grace period


def test_a_port_taken_between_probe_and_bind_is_retried_on_another(monkeypatch):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    ports = iter([taken.getsockname()[1]])
    from vlmbench.serving import process as process_module

    real_free_port = process_module.free_port
    monkeypatch.setattr(process_module, "free_port", lambda: next(ports, None) or real_free_port())
    try:
        model = VLLMServerModel("echo-weights", server_command=OUR_SERVER, startup_timeout_s=60)
        try:
            assert model.port != taken.getsockname()[1]
            assert model.generate([Request(prompt="hi")]) == ["0 hi"]
        finally:
            model.close()
    finally:
        taken.close()


@pytest.mark.slow
def test_vlmbench_run_with_a_vllm_server_catalog_row(tmp_path, monkeypatch):
    """Host → worker subprocess → server subprocess, and nothing left running afterwards."""
    from vlmbench.cli.app import app
    from vlmbench.rundir import JobDir

    monkeypatch.setenv("COLUMNS", "250")
    marker = f"served-{uuid.uuid4().hex}"
    dataset = make_text_dataset(tmp_path / "words", WORDS[:4])
    catalog = tmp_path / "catalog.csv"
    params = {"server_command": OUR_SERVER, "served_model_name": marker, "startup_timeout_s": 60}
    with catalog.open("w", newline="", encoding="utf-8") as handle:
        rows = csv.writer(handle)
        rows.writerow(["framework", "model_family", "model_name", "docker_image", "python_package", "module",
                       "class_name", "weights", "params"])
        rows.writerow(["vllm", "Echo", "echo-vllm", "", "", "", "vllm-server", "echo-weights",
                       json.dumps(params)])
    config = tmp_path / "run.csv"
    config.write_text(f"model_name;dataset\necho-vllm;{dataset}\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(config), "--out", str(out), "--catalog", str(catalog)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (job_dir,) = (out / "jobs").iterdir()
    answers = [p.answer for p in JobDir(job_dir).read_predictions()]
    assert answers == ["1 What is written?"] * 4
    # The server's output lands in the job's log, where a user looks first.
    assert f"serving '{marker}'" in (job_dir / "worker.log").read_text()
    assert processes_with(marker) == []


def test_the_server_module_runs_standalone_and_stops_on_sigterm(tmp_path):
    from vlmbench.serving.process import free_port

    port = free_port()
    command = [sys.executable, "-m", "vlmbench.serving.openai_server", "--class-path", "echo",
               "--port", str(port), "--faults", "503", "--retry-after", "2"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = process.stdout.readline()
        assert f"http://127.0.0.1:{port}/v1" in line
        body = {"model": "EchoModel", "messages": [{"role": "user", "content": "hi"}]}
        first = requests.post(f"http://127.0.0.1:{port}/v1/chat/completions", json=body, timeout=5)
        assert (first.status_code, first.headers["Retry-After"]) == (503, "2")
        second = requests.post(f"http://127.0.0.1:{port}/v1/chat/completions", json=body, timeout=5).json()
        assert second["choices"][0]["message"] == {"role": "assistant", "content": "0 hi"}
        assert second["usage"] == {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
        assert requests.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
    finally:
        process.terminate()
        assert process.wait(10) == 0
