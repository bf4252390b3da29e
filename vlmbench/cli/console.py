"""The consoles the commands print to."""

from __future__ import annotations

import os

from rich.console import Console


def console() -> Console:
    """Standard output, as wide as the terminal (or COLUMNS).

    Made per call, so the width follows this invocation. Piped into a log,
    rich would assume 80 columns and fold every table cell: a long log line
    reads better.
    """
    terminal = Console(soft_wrap=True)
    if terminal.is_terminal or "COLUMNS" in os.environ:
        return terminal
    return Console(soft_wrap=True, width=160)
