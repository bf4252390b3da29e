"""The HTTP side of the OpenAI-compatible test server: routes, auth, injected faults, response shapes.

``usage`` counts whitespace-separated words, not tokens: the server knows
no tokenizer. Errors use OpenAI's ``{"error": {"message", "type", "code"}}``
body, so clients read them as they read a hosted API's.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

from vlmbench.models.base import Request
from vlmbench.models.openai_messages import MessageError, to_request

if TYPE_CHECKING:
    from vlmbench.serving.openai_server import OpenAIServer

logger = logging.getLogger("vlmbench.serving")

MAX_BODY_BYTES = 64 * 1024 * 1024
CHAT_PATH = "/v1/chat/completions"


class HTTPProblem(Exception):
    """A request answered with an error status instead of a completion."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status, self.kind = status, kind


def _words(*texts: str | None) -> int:
    return sum(len(text.split()) for text in texts if text)


def completion_body(answer: str, request: Request, model_id: str) -> dict[str, Any]:
    """The OpenAI chat.completion response shape."""
    prompt_words = _words(request.prompt, request.system_prompt)
    answer_words = _words(answer)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model_id,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_words, "completion_tokens": answer_words,
                  "total_tokens": prompt_words + answer_words},
    }


class ChatHandler(BaseHTTPRequestHandler):
    """One connection's requests; ``self.server`` holds the model, faults and counters."""

    protocol_version = "HTTP/1.1"  # keep-alive, as clients' connection pools expect
    server: OpenAIServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        logger.debug("%s %s", self.address_string(), format % args)

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_error(self, status: int, message: str, kind: str,
                    headers: dict[str, str] | None = None) -> None:
        self._send(status, {"error": {"message": message, "type": kind, "code": status}}, headers)

    def _authorized(self) -> bool:
        key = self.server.api_key
        return not key or self.headers.get("Authorization") == f"Bearer {key}"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path.startswith("/v1/") and not self._authorized():
            self.server.stats.count("unauthorized")
            self._send_error(401, "invalid or missing API key", "authentication_error")
        elif self.path == "/health":
            self._send(200, {"status": "ok"})
        elif self.path == "/v1/models":
            self._send(200, {"object": "list", "data": [
                {"id": self.server.model_id, "object": "model", "created": self.server.started,
                 "owned_by": "vlmbench"}]})
        elif self.path == "/stats":
            batch_sizes = list(self.server.batcher.batch_sizes)
            self._send(200, {**self.server.stats.snapshot(), "batch_sizes": batch_sizes})
        else:
            self._send_error(404, f"no route GET {self.path}", "not_found_error")

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True  # the unread body would poison the next request on this connection
            self._send_error(413, f"request body over {MAX_BODY_BYTES} bytes", "invalid_request_error")
            return
        raw = self.rfile.read(length)  # read even when refusing, so the connection stays usable
        if self.path != CHAT_PATH:
            self._send_error(404, f"no route POST {self.path}", "not_found_error")
            return
        with self.server.stats.request():
            try:
                self._send(200, self._chat(raw))
            except HTTPProblem as problem:
                injected = problem.kind == "injected_fault"
                headers = self.server.faults.headers(problem.status) if injected else None
                self._send_error(problem.status, str(problem), problem.kind, headers)

    def _chat(self, raw: bytes) -> dict[str, Any]:
        server = self.server
        if not self._authorized():
            server.stats.count("unauthorized")
            raise HTTPProblem(401, "invalid or missing API key", "authentication_error")
        fault = server.faults.take()
        if fault is not None:
            server.stats.count("faults_sent")
            raise HTTPProblem(fault, f"injected fault {fault}", "injected_fault")
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise HTTPProblem(400, f"body is not JSON: {exc}") from None
        if not isinstance(body, dict):
            raise HTTPProblem(400, "body must be a JSON object")
        if body.get("model") not in (None, server.model_id):
            raise HTTPProblem(404, f"The model `{body.get('model')}` does not exist; this server serves "
                                   f"`{server.model_id}`", "not_found_error")
        if body.get("stream"):
            raise HTTPProblem(400, "streaming is not supported by this server")
        if body.get("n", 1) != 1:
            raise HTTPProblem(400, "only n=1 is supported")
        try:
            request = to_request(body)
        except MessageError as exc:
            raise HTTPProblem(400, str(exc)) from None
        try:
            answer = server.batcher.submit(request)
        except Exception as exc:  # noqa: BLE001 - a model failure is the server's 500, as in vLLM
            logger.exception("model failed")
            raise HTTPProblem(500, f"model failed: {type(exc).__name__}: {exc}", "server_error") from None
        server.stats.count("answered")
        return completion_body(answer, request, server.model_id)
