"""Which tiny models the transformers adapter can load in this environment."""

from __future__ import annotations

import importlib.util

import pytest

from vlmbench.testing.tiny import TINY_ARCHS, loadable_archs, tiny_family


def test_families_whose_needs_are_missing_are_built_but_not_loaded(monkeypatch: pytest.MonkeyPatch):
    assert {"pixtral", "mistral3"} <= set(TINY_ARCHS)  # built everywhere: building needs no torchvision
    assert tiny_family("pixtral").needs == ("torchvision",)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "torchvision" else real(name))
    without = loadable_archs()
    assert "pixtral" not in without and "mistral3" not in without and "llava" in without
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object() if name == "torchvision" else real(name))
    assert {"pixtral", "mistral3"} <= set(loadable_archs())
    assert all(tiny_family(arch).hf for arch in loadable_archs())
