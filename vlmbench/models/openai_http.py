"""HTTP for OpenAI-compatible endpoints: retries with backoff, Retry-After, errors without secrets.

Built on ``requests`` (already installed with vlmbench, through the docker
SDK), so the adapter adds no dependency to any image. A ``requests.Session``
is not documented as thread-safe, so each worker thread gets its own; the
sessions keep connections alive between the requests of a run.

Transient failures (429, 5xx, refused or dropped connections, timeouts) are
retried up to ``max_retries`` times; any other status fails at once with
the server's own message. The API key is sent only in the Authorization
header and scrubbed from every message this module writes.
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from vlmbench.errors import EndpointError  # defined in vlmbench.errors; imported from here too

logger = logging.getLogger("vlmbench.openai")

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504}) | frozenset(range(505, 600))
MESSAGE_LIMIT = 500


class _Transient(Exception):
    """A failure worth retrying: 429, 5xx, a refused or dropped connection, a timeout."""

    def __init__(self, problem: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(problem)
        self.status = status
        self.retry_after = retry_after


TRANSIENT_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


def redact(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret else text


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait: exponential backoff with jitter, or what the server asks."""

    max_retries: int = 4
    backoff_s: float = 1.0
    backoff_max_s: float = 30.0
    retry_after_max_s: float = 120.0

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (0 for the first retry)."""
        if retry_after is not None:
            # The server knows when it will have room again; waiting less only earns another 429.
            return min(max(retry_after, 0.0), self.retry_after_max_s)
        ceiling = min(self.backoff_max_s, self.backoff_s * 2 ** retry)
        # "Equal jitter": at least half the ceiling, so clients that failed together spread out.
        return ceiling / 2 + random.uniform(0, ceiling / 2)


def parse_retry_after(headers: Any) -> float | None:
    """Seconds from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date); None if absent."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return float(millis) / 1000
        except ValueError:
            pass
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def server_message(response: requests.Response) -> str:
    """The error text of an OpenAI-style (``error.message``), vLLM or FastAPI (``detail``) body."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:MESSAGE_LIMIT] or response.reason or "no message"
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:MESSAGE_LIMIT]
        for key in ("message", "detail", "error"):
            if body.get(key):
                return str(body[key])[:MESSAGE_LIMIT]
    return str(body)[:MESSAGE_LIMIT]


def _connection_reason(exc: requests.RequestException, timeout_s: float) -> str:
    if isinstance(exc, requests.Timeout) and not isinstance(exc, requests.ConnectTimeout):
        return f"no answer within timeout_s={timeout_s:g}"
    if isinstance(exc, requests.ConnectTimeout):
        return f"could not connect within timeout_s={timeout_s:g}"
    # requests nests the OS error deep in its text; the "[Errno 111] Connection refused" part is what matters.
    match = re.search(r"\[Errno -?\d+\] ([^'\")]+)", str(exc))
    return match.group(1).strip() if match else f"{type(exc).__name__}: {str(exc)[:200]}"


class ChatClient:
    """POSTs JSON to one base URL from many threads, retrying what is worth retrying."""

    def __init__(self, base_url: str, api_key: str | None, timeout_s: float, policy: RetryPolicy) -> None:
        self.base_url = base_url.rstrip("/")
        self._loopback = urlsplit(self.base_url).hostname in LOOPBACK_HOSTS
        self.timeout_s = timeout_s
        # Connecting is quick or it fails; only the answer may take the whole timeout.
        self._timeouts = (min(timeout_s, 10.0), timeout_s)
        self.policy = policy
        self._api_key = api_key
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            # A proxy from the environment cannot reach our loopback servers; hosted APIs may need it.
            session.trust_env = not self._loopback
            session.headers["User-Agent"] = "vlmbench"
            if self._api_key:
                session.headers["Authorization"] = f"Bearer {self._api_key}"
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def _error(self, message: str, **kwargs: Any) -> EndpointError:
        return EndpointError(redact(message, self._api_key), **kwargs)

    def get_json(self, path: str) -> tuple[int, Any]:
        """One GET, no retries (used to probe the endpoint); raises EndpointError if unreachable."""
        url = f"{self.base_url}{path}"
        try:
            response = self._session().get(url, timeout=self._timeouts)
        except requests.RequestException as exc:
            raise self._error(f"cannot reach {url}: {_connection_reason(exc, self.timeout_s)}") from None
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, None

    def _post_once(self, url: str, payload: dict[str, Any], attempt: int) -> Any:
        """One POST: the decoded body, an EndpointError to give up, or _Transient to try again."""
        try:
            response = self._session().post(url, json=payload, timeout=self._timeouts)
        except TRANSIENT_ERRORS as exc:
            raise _Transient(_connection_reason(exc, self.timeout_s)) from None
        status = response.status_code
        if response.ok:
            try:
                return response.json()
            except ValueError:
                raise self._error(f"{url} answered HTTP {status} with a body that is not JSON: "
                                  f"{response.text[:200]!r}", status=status, attempts=attempt) from None
        problem = f"HTTP {status}: {server_message(response)}"
        if status not in RETRYABLE_STATUS:
            raise self._error(f"{url} refused the request: {problem}", status=status, attempts=attempt,
                              hint=_hint_for(status))
        raise _Transient(problem, status, parse_retry_after(response.headers))

    def post_json(self, path: str, payload: dict[str, Any]) -> Any:
        """POST with retries; the decoded JSON body of the first 2xx answer."""
        url = f"{self.base_url}{path}"
        attempts = self.policy.max_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                return self._post_once(url, payload, attempt)
            except _Transient as transient:
                if attempt == attempts:
                    raise self._error(f"{url} failed after {attempts} attempt(s): {transient}",
                                      status=transient.status, attempts=attempt,
                                      hint="raise max_retries or timeout_s, or check the server") from None
                wait = self.policy.delay(attempt - 1, transient.retry_after)
                logger.warning("%s", redact(f"attempt {attempt}/{attempts} to {url} failed ({transient}); "
                                            f"retrying in {wait:.1f}s", self._api_key))
                time.sleep(wait)
        raise AssertionError("unreachable")  # the loop returns or raises

    def close(self) -> None:
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()


def _hint_for(status: int) -> str | None:
    return {
        401: "check the API key (api_key_env names the variable that holds it)",
        403: "the API key lacks access to this model or endpoint",
        404: "check base_url (it usually ends in /v1) and the served model id (param 'model')",
        413: "the request is too large: send smaller images (image_format='jpeg') or fewer of them",
    }.get(status)
