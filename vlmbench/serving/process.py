"""A model server as a child process: start, wait until healthy, keep its log, stop then kill.

The server runs in its own session (process group), so stopping it also
stops the engine processes it forked (vLLM runs its engine core apart from
the API server). Its output is kept as a tail for error messages, written
to a log file when asked, and echoed to our stderr so it lands in the
job's worker.log.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections import deque
from pathlib import Path

import requests

from vlmbench.errors import ServerStartError  # defined in vlmbench.errors; imported from here too

TAIL_LINES = 200
POLL_S = 0.25


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop_group(process: subprocess.Popen, grace_s: float) -> None:
    """SIGTERM to the whole group; SIGKILL to whatever is left of it after ``grace_s``."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        process.wait()
        return  # the group is gone already
    try:
        process.wait(grace_s)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


class ServerProcess:
    """One server command; :meth:`start` returns once ``health_url`` answers 200."""

    def __init__(self, command: list[str], health_url: str, *, name: str = "server",
                 startup_timeout_s: float = 900.0, stop_timeout_s: float = 30.0, log_path: Path | None = None,
                 echo: bool = True) -> None:
        self.command = command
        self.health_url = health_url
        self.name = name
        self.startup_timeout_s = startup_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self.log_path = log_path
        self.echo = echo
        self.process: subprocess.Popen | None = None
        self._tail: deque[str] = deque(maxlen=TAIL_LINES)
        self._reader: threading.Thread | None = None

    def tail(self, lines: int = 20) -> str:
        return "\n".join(list(self._tail)[-lines:])

    def _pump(self, stream) -> None:
        log = self.log_path.open("a", encoding="utf-8") if self.log_path else None
        try:
            for raw in iter(stream.readline, b""):
                line = raw.decode("utf-8", errors="replace").rstrip()
                self._tail.append(line)
                if log:
                    log.write(line + "\n")
                    log.flush()
                if self.echo:
                    print(f"[{self.name}] {line}", file=sys.stderr, flush=True)
        finally:
            if log:
                log.close()

    def start(self) -> None:
        try:
            self.process = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            raise ServerStartError(f"cannot start {self.name} ({self.command[0]}): {exc}",
                                   hint="check server_command") from None
        # Safety net: the group is stopped even if close() is never called (garbage collection, exit).
        self._finalizer = weakref.finalize(self, _stop_group, self.process, self.stop_timeout_s)
        self._reader = threading.Thread(target=self._pump, args=(self.process.stdout,), daemon=True,
                                        name=f"{self.name}-log")
        self._reader.start()
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise

    def _wait_healthy(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.startup_timeout_s
        session = requests.Session()
        session.trust_env = False  # the server is on loopback: no proxy from the environment
        with session:
            while not self._healthy(session):
                if time.monotonic() > deadline:
                    raise ServerStartError(
                        f"{self.name} not healthy at {self.health_url} after {self.startup_timeout_s:g}s; "
                        f"last output:\n{self.tail()}",
                        hint="raise startup_timeout_s for a large model; else the output tells the cause")
                time.sleep(POLL_S)

    def _healthy(self, session: requests.Session) -> bool:
        """True once the health URL answers 200; raises if the server has exited meanwhile."""
        code = self.process.poll()
        if code is not None:
            if self._reader:
                self._reader.join(2.0)  # let the last lines arrive
            tail = self.tail()
            raise ServerStartError(
                f"{self.name} exited with code {code} before it was ready; last output:\n{tail}",
                hint="read the server's output above; a wrong model path or params is the usual cause",
                port_in_use="address already in use" in tail.lower())
        try:
            return session.get(self.health_url, timeout=2.0).status_code == 200
        except requests.RequestException:
            return False  # not listening yet

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM to the server's process group, SIGKILL after ``stop_timeout_s``."""
        if self.process is None:
            return
        self._finalizer()  # runs _stop_group once, and never again at exit
        if self._reader is not None:
            self._reader.join(5.0)
        if self.process.stdout is not None:
            self.process.stdout.close()
