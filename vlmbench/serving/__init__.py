"""Serving models over HTTP: our own OpenAI-compatible server, and servers run as child processes.

Names are imported on first use, so that ``python -m
vlmbench.serving.openai_server`` does not find its module already imported.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "OpenAIServer": "vlmbench.serving.openai_server",
    "FaultPlan": "vlmbench.serving.faults",
    "ServerStats": "vlmbench.serving.faults",
    "ServerProcess": "vlmbench.serving.process",
    "ServerStartError": "vlmbench.serving.process",
    "free_port": "vlmbench.serving.process",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'vlmbench.serving' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
