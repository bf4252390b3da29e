"""The PaliGemma 2 and Gemma 3 family."""

from __future__ import annotations

from vlmbench.testing.tiny.common import TinyFamily

FAMILIES: dict[str, TinyFamily] = {}
