"""The GOT-OCR 2 family."""

from __future__ import annotations

from vlmbench.testing.tiny.common import TinyFamily

FAMILIES: dict[str, TinyFamily] = {}

# (framework, catalog model_family) -> why no tiny model here checks those rows.
NOT_CHECKED: dict[tuple[str, str], str] = {}
