"""The consoles the commands print to."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console


def console() -> Console:
    """Standard output, as wide as the terminal (or COLUMNS).

    Made per call, so the width follows this invocation. Piped into a log,
    rich would assume 80 columns and fold every table cell: a long log line
    reads better.
    """
    from rich.console import Console

    # emoji=False: a `:name:` in a model name or a path stays as written (and its table loads no emoji codes).
    terminal = Console(soft_wrap=True, emoji=False)
    if terminal.is_terminal or "COLUMNS" in os.environ:
        return terminal
    return Console(soft_wrap=True, emoji=False, width=160)
