"""Hugging Face transformers models: one generic adapter, family quirks kept apart.

Importing this package imports neither torch nor transformers; the adapter
module does, when a job asks for it (``vlmbench.models.hf.adapter:HFVisionModel``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["HFVisionModel"]


def __getattr__(name: str) -> Any:
    if name == "HFVisionModel":
        from vlmbench.models.hf.adapter import HFVisionModel

        return HFVisionModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
