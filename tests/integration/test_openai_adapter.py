"""The openai adapter against real HTTP servers on loopback: answers, retries, limits, secrets, a run."""

from __future__ import annotations

import csv
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image, ImageDraw
from typer.testing import CliRunner

from tests.conftest import WORDS, make_text_dataset
from vlmbench.errors import ModelLoadError
from vlmbench.models.base import GenerationParams, Request
from vlmbench.models.echo import EchoModel
from vlmbench.models.openai_api import OpenAICompatibleModel
from vlmbench.models.openai_http import EndpointError
from vlmbench.serving.faults import FaultPlan
from vlmbench.serving.openai_server import OpenAIServer
from vlmbench.serving.process import free_port

pytestmark = [pytest.mark.integration, pytest.mark.workers]

SECRET = "sk-test-0123456789abcdef"


@pytest.fixture(autouse=True)
def no_keys_from_the_environment(monkeypatch):
    for name in ("VLMBENCH_API_KEY", "OPENAI_API_KEY", "VLMBENCH_API_BASE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A tiny random Qwen2-VL checkpoint loaded through the real transformers adapter."""
    from vlmbench.models.hf.adapter import HFVisionModel
    from vlmbench.testing import build_tiny_model

    model = HFVisionModel(str(build_tiny_model("qwen2_vl", tmp_path_factory.mktemp("tiny") / "qwen2-vl")))
    yield model
    model.close()


@pytest.fixture
def serve():
    """Start OpenAIServer instances in threads; all stopped after the test."""
    servers: list[OpenAIServer] = []

    def start(model=None, **kwargs) -> OpenAIServer:
        server = OpenAIServer(model or EchoModel(weights="echo-model"), **kwargs).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def clients():
    made: list[OpenAICompatibleModel] = []

    def make(base_url: str, **params) -> OpenAICompatibleModel:
        params.setdefault("backoff_s", 0.01)
        client = OpenAICompatibleModel(params.pop("weights", None), base_url=base_url, **params)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def drawn(text: str, size: tuple[int, int] = (96, 40)) -> Image.Image:
    image = Image.new("RGB", size, "white")
    ImageDraw.Draw(image).text((4, 12), text, fill="black")
    return image


SHORT = GenerationParams(max_new_tokens=8)
REQUESTS = [
    Request(prompt="Only text, no image.", params=SHORT),
    Request(prompt="What is written?", images=[drawn("invoice")], system_prompt="Answer with one word.",
            params=SHORT),
    Request(prompt="Compare the two.", images=[drawn("total"), drawn("price", (60, 60))],
            params=GenerationParams(max_new_tokens=5)),
]


@pytest.mark.slow
def test_a_transformers_model_answers_over_http_as_it_does_directly(serve, clients, tiny_model):
    server = serve(tiny_model, model_id="tiny-qwen2-vl")
    client = clients(server.url, max_concurrency=3)
    assert client.served_model == "tiny-qwen2-vl"  # learnt from /v1/models: no weights, no model param
    direct = [tiny_model.generate([request])[0] for request in REQUESTS]
    assert len(set(direct)) == len(REQUESTS)  # the answers depend on the request, so equality means something
    assert client.generate(REQUESTS) == direct  # one by one directly; over HTTP concurrently, maybe batched
    assert server.stats.answered == len(REQUESTS)


def test_text_single_and_multi_image_requests_arrive_whole(serve, clients):
    model = EchoModel(weights="echo-model")
    server = serve(model)
    client = clients(server.url)
    assert client.served_model == "echo-model"
    assert client.generate(REQUESTS) == ["0 Only text, no image.", "1 What is written?", "2 Compare the two."]


def test_retries_after_429_and_500_succeed_with_the_expected_number_of_attempts(serve, clients):
    server = serve(faults=FaultPlan.parse("429,500,503", retry_after_s=0.05))
    client = clients(server.url, max_retries=3)
    assert client.generate([Request(prompt="hello")]) == ["0 hello"]
    assert (server.stats.chat_requests, server.stats.faults_sent, server.stats.answered) == (4, 3, 1)


def test_retries_give_up_after_max_retries_and_say_so(serve, clients):
    server = serve(faults=FaultPlan.parse("500x5"))
    client = clients(server.url, max_retries=2)
    with pytest.raises(EndpointError) as caught:
        client.generate([Request(prompt="hello")])
    assert (caught.value.status, caught.value.attempts) == (500, 3)
    assert "after 3 attempt(s)" in str(caught.value) and "injected fault 500" in str(caught.value)
    assert server.stats.chat_requests == 3


def test_retry_after_is_honoured(serve, clients):
    server = serve(faults=FaultPlan.parse("429", retry_after_s=1.0))
    client = clients(server.url, backoff_s=0.0)  # without Retry-After the retry would be immediate
    start = time.monotonic()
    assert client.generate([Request(prompt="x")]) == ["0 x"]
    elapsed = time.monotonic() - start
    assert 1.0 <= elapsed < 3.0
    assert server.stats.chat_requests == 2


def test_a_400_fails_at_once_with_the_servers_message(serve, clients):
    server = serve(faults=FaultPlan.parse("400"))
    client = clients(server.url, max_retries=5, backoff_s=10.0)
    start = time.monotonic()
    with pytest.raises(EndpointError) as caught:
        client.generate([Request(prompt="x")])
    assert time.monotonic() - start < 2.0
    assert (caught.value.status, caught.value.attempts) == (400, 1)
    assert "HTTP 400: injected fault 400" in str(caught.value)
    assert server.stats.chat_requests == 1


def test_a_model_id_the_server_does_not_serve_is_a_404_with_a_hint(serve, clients):
    server = serve()
    client = clients(server.url, model="no-such-model")
    with pytest.raises(EndpointError) as caught:
        client.generate([Request(prompt="x")])
    assert caught.value.status == 404 and "`no-such-model` does not exist" in str(caught.value)
    assert "model" in caught.value.problems[0].hint


def test_a_failing_model_is_a_500_retried_then_reported(serve, clients):
    server = serve(EchoModel(weights="echo-model", fail_marker="BOOM"))
    client = clients(server.url, max_retries=1)
    with pytest.raises(EndpointError, match="asked to fail on 'BOOM'"):
        client.generate([Request(prompt="BOOM")])
    assert server.stats.chat_requests == 2


@pytest.mark.parametrize("limit", [1, 3])
def test_concurrency_never_exceeds_max_concurrency(serve, clients, limit):
    server = serve(EchoModel(weights="echo-model", delay_s=0.05), max_batch=1)
    client = clients(server.url, max_concurrency=limit)
    requests = [Request(prompt=f"q{i}") for i in range(9)]
    assert client.generate(requests) == [f"0 q{i}" for i in range(9)]
    assert server.stats.max_in_flight == limit


def test_the_server_batches_concurrent_requests_and_one_failure_spares_the_rest(serve, clients):
    model = EchoModel(weights="echo-model", fail_marker="BOOM")
    server = serve(model, batch_wait_s=0.2)
    client = clients(server.url, max_concurrency=4, max_retries=0)
    with pytest.raises(EndpointError, match="1 of 4 requests failed") as caught:
        client.generate([Request(prompt=p) for p in ("a", "b", "BOOM", "d")])
    assert caught.value.status == 500
    assert max(model.batch_sizes) > 1  # answered together, then one by one after the failure
    assert server.stats.answered == 3


def test_a_partly_failed_batch_is_not_sent_again_when_the_worker_retries_one_by_one(serve, clients):
    server = serve(faults=FaultPlan.parse("400"))
    client = clients(server.url, max_concurrency=1)  # one at a time: the first request meets the fault
    requests = [Request(prompt=f"q{i}") for i in range(3)]
    with pytest.raises(EndpointError, match="1 of 3 requests failed"):
        client.generate(requests)
    # What vlmbench.worker does after a failed batch.
    with pytest.raises(EndpointError, match="injected fault 400"):
        client.generate([requests[0]])
    assert client.generate([requests[1]]) == ["0 q1"]
    assert client.generate([requests[2]]) == ["0 q2"]
    assert server.stats.chat_requests == 3
    assert client.generate([requests[1]]) == ["0 q1"] and server.stats.chat_requests == 4  # used once only


def test_the_key_goes_as_bearer_and_a_wrong_one_is_refused(serve, clients, monkeypatch):
    server = serve(api_key=SECRET)
    monkeypatch.setenv("TEST_ENDPOINT_KEY", SECRET)
    client = clients(server.url, api_key_env="TEST_ENDPOINT_KEY")
    assert client.generate([Request(prompt="hi")]) == ["0 hi"]
    assert server.stats.unauthorized == 0

    monkeypatch.setenv("TEST_ENDPOINT_KEY", "sk-wrong-key-42")
    with pytest.raises(ModelLoadError, match="rejected the API key") as caught:
        clients(server.url, api_key_env="TEST_ENDPOINT_KEY")
    assert "sk-wrong-key-42" not in str(caught.value)
    unchecked = clients(server.url, api_key_env="TEST_ENDPOINT_KEY", check_endpoint=False, model="echo-model")
    with pytest.raises(EndpointError) as caught:
        unchecked.generate([Request(prompt="hi")])
    assert caught.value.status == 401 and caught.value.attempts == 1
    assert "sk-wrong-key-42" not in str(caught.value) and "API key" in caught.value.problems[0].hint


class EchoingAuthHandler(BaseHTTPRequestHandler):
    """A careless server that quotes the Authorization header back in its errors."""

    def _reply(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        quoted = f"bad credentials: {self.headers.get('Authorization')}"
        body = json.dumps({"error": {"message": quoted}}).encode()
        self.send_response(403 if self.command == "POST" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _reply

    def log_message(self, *args) -> None:
        pass


def test_the_key_is_scrubbed_even_when_a_server_quotes_it(clients, caplog):
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoingAuthHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = clients(f"http://127.0.0.1:{server.server_port}/v1", api_key=SECRET, model="m")
        with pytest.raises(EndpointError) as caught:
            client.generate([Request(prompt="hi")])
    finally:
        server.shutdown()
        server.server_close()
    assert "bad credentials: Bearer ***" in str(caught.value)
    assert SECRET not in str(caught.value) and SECRET not in caplog.text


def test_an_unreachable_endpoint_fails_clearly_at_load_time():
    port = free_port()  # nothing listens there
    start = time.monotonic()
    with pytest.raises(ModelLoadError) as caught:
        OpenAICompatibleModel("m", base_url=f"http://127.0.0.1:{port}/v1", timeout_s=2.0)
    assert time.monotonic() - start < 2.0
    assert f"127.0.0.1:{port}/v1/models" in str(caught.value) and "refused" in str(caught.value).lower()


def test_a_silent_endpoint_fails_within_the_timeout_after_the_retries(clients):
    # A socket that accepts connections (the kernel's backlog) but never answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        client = clients(f"http://127.0.0.1:{silent.getsockname()[1]}/v1", model="m", check_endpoint=False,
                         timeout_s=0.5, max_retries=1, backoff_s=0.0)
        start = time.monotonic()
        with pytest.raises(EndpointError) as caught:
            client.generate([Request(prompt="hi")])
        elapsed = time.monotonic() - start
    assert 1.0 <= elapsed < 2.5  # two attempts of 0.5 s
    assert "no answer within timeout_s=0.5" in str(caught.value) and caught.value.attempts == 2


@pytest.mark.slow
def test_vlmbench_run_with_an_openai_catalog_row_against_the_loopback_server(serve, tiny_model, tmp_path,
                                                                              monkeypatch):
    from vlmbench.cli.app import app
    from vlmbench.datasets import load_image
    from vlmbench.rundir import JobDir

    server = serve(tiny_model, model_id="tiny-qwen2-vl", api_key=SECRET)
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.setenv("RUN_ENDPOINT_KEY", SECRET)  # the worker subprocess inherits it
    dataset = make_text_dataset(tmp_path / "words", WORDS[:6])
    catalog = tmp_path / "catalog.csv"
    params = json.dumps({"base_url": server.url, "api_key_env": "RUN_ENDPOINT_KEY", "max_concurrency": 2})
    with catalog.open("w", newline="", encoding="utf-8") as handle:
        rows = csv.writer(handle)
        rows.writerow(["framework", "model_family", "model_name", "docker_image", "python_package", "module",
                       "class_name", "weights", "params"])
        rows.writerow(["openai", "Qwen2-VL", "tiny-over-http", "", "", "", "openai", "tiny-qwen2-vl", params])
    config = tmp_path / "run.csv"
    config.write_text(f"model_name;dataset;metrics;max_new_tokens\ntiny-over-http;{dataset};['exact_match'];6\n",
                      encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(config), "--out", str(out), "--catalog", str(catalog)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (job_dir,) = (out / "jobs").iterdir()
    predictions = JobDir(job_dir).read_predictions()
    assert not any(p.error for p in predictions)
    direct = [tiny_model.generate([Request(prompt="What is written?",
                                           images=[load_image(dataset, f"images/{i}.png")],
                                           params=GenerationParams(max_new_tokens=6))])[0] for i in range(6)]
    assert [p.answer for p in predictions] == direct
    assert server.stats.answered == 6 and server.stats.unauthorized == 0
    for path in out.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(encoding="utf-8", errors="replace"), path
