"""The InternVL (transformers-native) family."""

from __future__ import annotations

from vlmbench.testing.tiny.common import TinyFamily

FAMILIES: dict[str, TinyFamily] = {}
