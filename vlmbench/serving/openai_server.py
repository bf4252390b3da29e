"""A small OpenAI-compatible HTTP server for any vlmbench model, on 127.0.0.1 only.

It stands in for a vLLM/SGLang server in tests (real HTTP, real sockets,
real processes) and lets any adapter be queried like a hosted API:

    python -m vlmbench.serving.openai_server --class-path vlmbench.models.echo:EchoModel --port 8000

Endpoints: ``POST /v1/chat/completions`` (single-turn chats, images as
base64 data URLs), ``GET /v1/models``, ``GET /health`` and ``GET /stats``
(request counters, for tests); the routes live in
:mod:`vlmbench.serving.chat_handler`. ``--faults 429x2,500`` answers the
first requests with errors, to test clients' retries.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from http.server import ThreadingHTTPServer

from vlmbench.models.base import VisionLanguageModel
from vlmbench.serving.batcher import Batcher
from vlmbench.serving.chat_handler import ChatHandler
from vlmbench.serving.faults import FaultPlan, ServerStats

HOST = "127.0.0.1"  # never exposed beyond this machine: the server has no real authentication story


class OpenAIServer(ThreadingHTTPServer):
    """Serves one model on 127.0.0.1; ``port=0`` picks a free port (see :attr:`url`)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, model: VisionLanguageModel, *, port: int = 0, model_id: str | None = None,
                 api_key: str | None = None, faults: FaultPlan | None = None, batch_wait_s: float = 0.005,
                 max_batch: int | None = None) -> None:
        super().__init__((HOST, port), ChatHandler)
        self.model = model
        self.model_id = model_id or model.weights or type(model).__name__
        self.api_key = api_key
        self.faults = faults or FaultPlan()
        self.stats = ServerStats()
        self.started = int(time.time())
        self.batcher = Batcher(model, max_batch=max_batch, wait_s=batch_wait_s)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL clients use, ending in /v1."""
        return f"http://{HOST}:{self.server_port}/v1"

    def start(self) -> OpenAIServer:
        """Serve from a background thread (for tests and embedding)."""
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="openai-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
        self.server_close()
        self.batcher.close()

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m vlmbench.serving.openai_server",
        description="Serve a vlmbench model over an OpenAI-compatible API on 127.0.0.1.")
    parser.add_argument("--class-path", required=True, help="package.module:Class or a registered name")
    parser.add_argument("--weights", default=None)
    parser.add_argument("--params", default="{}", help="JSON object of constructor keyword arguments")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--served-model-name", default=None,
                        help="the model id clients send [default: weights]")
    parser.add_argument("--api-key-env", default=None,
                        help="name of an env var holding the key clients must send")
    parser.add_argument("--faults", default="", help="statuses for the first requests, e.g. 429x2,500")
    parser.add_argument("--retry-after", type=float, default=None,
                        help="Retry-After seconds sent with 429/503")
    parser.add_argument("--batch-wait-ms", type=float, default=5.0)
    parser.add_argument("--max-batch", type=int, default=None)
    return parser


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    from vlmbench.errors import VlmbenchError
    from vlmbench.registry import resolve_model_class

    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        params = json.loads(args.params)
        faults = FaultPlan.parse(args.faults, args.retry_after)
        api_key = os.environ.get(args.api_key_env) if args.api_key_env else None
        if args.api_key_env and not api_key:
            raise ValueError(f"environment variable {args.api_key_env} is not set")
        model = resolve_model_class(args.class_path)(weights=args.weights, **params)
    except (VlmbenchError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2
    try:
        server = OpenAIServer(model, port=args.port, model_id=args.served_model_name, api_key=api_key,
                              faults=faults, batch_wait_s=args.batch_wait_ms / 1000, max_batch=args.max_batch)
    except OSError as exc:  # most often: the port is taken ("Address already in use")
        print(f"error: cannot listen on {HOST}:{args.port}: {exc.strerror or exc}",
              file=sys.stderr, flush=True)
        model.close()
        return 2
    # SIGTERM (what a supervisor sends) ends serve_forever the same way Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    print(f"serving {server.model_id!r} at {server.url}", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        server.batcher.close()
        model.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
