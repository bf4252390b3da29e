"""A Sample is small: a dataset of a million is held whole while it is scored (issue 13)."""

from __future__ import annotations

import dataclasses
import tracemalloc

import pytest
from pydantic import ValidationError

from vlmbench.datasets.schema import Sample


def test_a_sample_has_slots_and_shares_its_empty_lists():
    first, second = Sample(id="a", question="q", answer="x"), Sample(id="b", question="q", answer="y", choices=[])
    assert not hasattr(first, "__dict__")
    assert first.choices is second.choices is first.images == ()


def test_a_sample_is_frozen_and_validated_and_copied_with_replace():
    sample = Sample(id="a", question="q", answer="x", images=["p.png"], choices=["yes", "no"])
    assert sample.images == ("p.png",) and sample.choices == ("yes", "no")
    with pytest.raises(dataclasses.FrozenInstanceError):
        sample.answer = "y"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Sample(id="a", question="q", answer=None)  # type: ignore[arg-type]
    assert dataclasses.replace(sample, answer="y").answer == "y" and sample.answer == "x"


def test_ten_thousand_samples_hold_under_300_bytes_each_beside_their_strings():
    ids = [f"s{i}" for i in range(10_000)]  # made before measuring: every scorer holds these anyway
    tracemalloc.start()
    try:
        samples = [Sample(id=i, question="?", answer="a", doc_class="invoice", metadata={}) for i in ids]
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(samples) == 10_000
    assert held / 10_000 < 300  # a BaseModel with lists took 1,400
