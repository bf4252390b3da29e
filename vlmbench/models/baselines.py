"""Baselines that need no model: what a benchmark's numbers should beat.

:class:`MajorityAnswer` always gives the most frequent answer of a
reference dataset (its training split): on a VQA set it shows how far
guessing the commonest answer goes, the floor any real model must clear.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from vlmbench.errors import ModelLoadError
from vlmbench.models.base import Request, VisionLanguageModel
from vlmbench.registry import register_model


@register_model("majority")
class MajorityAnswer(VisionLanguageModel):
    """Answers every request with the commonest answer of the dataset named by ``weights``.

    ``weights`` is a dataset folder or a bundled dataset name (e.g.
    ``easy-vqa-train``); ``split`` restricts the count to one split.
    """

    max_batch_size = 1024

    def __init__(self, weights: str | None = None, split: str | None = None, **params: Any) -> None:
        super().__init__(weights, **params)
        if not weights:
            raise ModelLoadError("the majority baseline needs a reference dataset in `weights`",
                                 hint="e.g. weights = easy-vqa-train")
        from vlmbench.datasets import load_dataset, resolve_dataset

        dataset = load_dataset(resolve_dataset(weights))
        counts = Counter(s.answer for s in dataset.samples if split is None or s.split == split)
        if not counts:
            raise ModelLoadError(f"dataset {weights!r} has no answers" + (f" in split {split!r}" if split else ""))
        self.answer, self.count = counts.most_common(1)[0]
        self.share = self.count / sum(counts.values())

    def generate(self, requests: Sequence[Request]) -> list[str]:
        return [self.answer for _ in requests]
