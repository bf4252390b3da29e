"""Fixtures of the dataset tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from vlmbench.datasets import loader as loader_module


@pytest.fixture
def parses(monkeypatch) -> list[Path]:
    """Every real parse of an annotation file (the parse still runs: this only counts it)."""
    calls: list[Path] = []
    real = loader_module._parse

    def counting(root, files, annotation_name):
        calls.append(root / annotation_name)
        return real(root, files, annotation_name)

    monkeypatch.setattr(loader_module, "_parse", counting)
    loader_module.clear_dataset_cache()
    return calls
