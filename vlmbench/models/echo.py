"""A model that answers without learning anything, for tests of everything around models.

It is registered exactly like the real adapters. It can be told to echo
the reference-free parts of a request, to sleep (to stand in for a slow
model) and to fail on prompts containing a marker (to test error paths).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from vlmbench.models.base import Request, VisionLanguageModel
from vlmbench.registry import register_model


@register_model("echo")
class EchoModel(VisionLanguageModel):
    """Answers `<n images> <prompt>`; `answer` fixes the reply instead."""

    def __init__(self, weights: str | None = None, answer: str | None = None, delay_s: float = 0.0,
                 fail_marker: str | None = None, max_batch_size: int = 64, **params: Any) -> None:
        super().__init__(weights, **params)
        self.answer = answer
        self.delay_s = delay_s
        self.fail_marker = fail_marker
        self.max_batch_size = max_batch_size
        self.batch_sizes: list[int] = []

    def generate(self, requests: Sequence[Request]) -> list[str]:
        self.batch_sizes.append(len(requests))
        if self.delay_s:
            time.sleep(self.delay_s * len(requests))
        for request in requests:
            if self.fail_marker and self.fail_marker in request.prompt:
                raise RuntimeError(f"asked to fail on {self.fail_marker!r}")
        if self.answer is not None:
            return [self.answer for _ in requests]
        return [f"{len(r.images)} {r.prompt}" for r in requests]
