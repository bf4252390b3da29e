"""Framework names: ours, and the spellings peers use for the same thing.

A catalog row, a run CSV and ``list-models --framework`` may name a framework
as VLMHyperBench does (``Hugging Face`` in its models CSV, ``Hugging_Face`` in
its model classes' ``framework`` attribute, ``vLLM``); each means one of ours.
A name nobody maps (a plugin's own framework, ``SGLang``) stays as written.
"""

from __future__ import annotations

import re

# Keyed by the spelling with case, spaces, `_`, `-` and `.` taken away.
_OURS_BY_KEY: dict[str, str] = {
    "hf": "hf",
    "huggingface": "hf",
    "transformers": "hf",
    "vllm": "vllm",
    "vllmserver": "vllm-server",
    "tesseract": "tesseract",
    "baseline": "baseline",
}


def canonical_framework(name: str) -> str:
    """Our name for a framework spelled any known way; any other name as written (trimmed)."""
    return _OURS_BY_KEY.get(re.sub(r"[\s_.-]+", "", name).lower(), name.strip())
