"""What the test server counts and what it breaks on purpose.

:class:`FaultPlan` answers the first chat requests with chosen error
statuses (429 with Retry-After, 500, 400, ...) so clients' retry logic is
tested against real HTTP. :class:`ServerStats` counts requests and the
most that were in flight at once, the evidence for a concurrency bound.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FaultPlan:
    """Statuses for the first ``len(statuses)`` chat requests, in arrival order."""

    statuses: list[int] = field(default_factory=list)
    retry_after_s: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def parse(cls, text: str, retry_after_s: float | None = None) -> FaultPlan:
        """``"429,500"`` or ``"429x3,500"`` (a status repeated three times)."""
        statuses: list[int] = []
        for item in filter(None, (part.strip() for part in text.split(","))):
            status, _, times = item.partition("x")
            statuses += [int(status)] * int(times or 1)
        if any(not 400 <= status <= 599 for status in statuses):
            raise ValueError(f"fault statuses must be HTTP errors (400-599), got {text!r}")
        return cls(statuses, retry_after_s)

    def take(self) -> int | None:
        """The status to fail the next request with, or None to answer it."""
        with self._lock:
            return self.statuses.pop(0) if self.statuses else None

    def headers(self, status: int) -> dict[str, str]:
        if status in (429, 503) and self.retry_after_s is not None:
            return {"Retry-After": f"{self.retry_after_s:g}"}
        return {}


@dataclass
class ServerStats:
    chat_requests: int = 0
    faults_sent: int = 0
    answered: int = 0
    unauthorized: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @contextmanager
    def request(self) -> Iterator[None]:
        with self._lock:
            self.chat_requests += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            yield
        finally:
            with self._lock:
                self.in_flight -= 1

    def count(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            names = ("chat_requests", "faults_sent", "answered", "unauthorized", "in_flight", "max_in_flight")
            return {name: getattr(self, name) for name in names}
