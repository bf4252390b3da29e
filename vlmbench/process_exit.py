"""Ending a vlmbench process once its work is durable, without the interpreter's teardown.

Tearing down an interpreter that imported torch, pandas or matplotlib frees
every module and object one by one: 0.15 s for the host after a report,
a second or more for a worker that loaded a model, during which everything
is written and the user (or the host) only waits. What an orderly exit does
that matters is kept: the exit handlers run (logging, temporary folders a
model made, coverage) and stdout and stderr are flushed.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from typing import NoReturn


def exit_now(code: int) -> NoReturn:
    """Run the exit handlers, flush stdout and stderr, and end the process with ``code`` at once.

    Only for a caller whose files are closed (written by `with` blocks or write_atomic).
    """
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed or broken stream: nothing left to keep
            stream.flush()
    os._exit(code)


def only_thread_left() -> bool:
    """True when no other non-daemon thread runs: an orderly exit would wait for one (a thread pool's
    worker still finishing), so it is taken then."""
    return all(thread is threading.main_thread() or thread.daemon or not thread.is_alive()
               for thread in threading.enumerate())
