"""Saved folders get the hub's weight names only where the hub's checkpoints have them."""

from __future__ import annotations

import json

import pytest

from vlmbench.models.hf.hub_layout import to_hub_weight_names

torch = pytest.importorskip("torch")
safetensors = pytest.importorskip("safetensors.torch")


def _folder(tmp_path, model_type: str, tower_type: str):
    config = {"model_type": model_type, "vision_config": {"model_type": tower_type}}
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    tensors = {"vision_tower.encoder.w": torch.zeros(2), "language_model.model.w": torch.ones(2)}
    safetensors.save_file(tensors, tmp_path / "model.safetensors")
    return tmp_path


@pytest.mark.parametrize(("model_type", "tower_type"), [
    ("llava", "clip_vision_model"), ("llava_next", "clip_vision_model"),
    ("llava_onevision", "siglip_vision_model"), ("aya_vision", "siglip_vision_model")])
def test_clip_and_siglip_towers_get_the_inner_vision_model_name(tmp_path, model_type, tower_type):
    folder = _folder(tmp_path, model_type, tower_type)
    assert to_hub_weight_names(folder)
    names = set(safetensors.load_file(folder / "model.safetensors"))
    assert names == {"vision_tower.vision_model.encoder.w", "language_model.model.w"}
    assert not to_hub_weight_names(folder), "a second call changes nothing"


@pytest.mark.parametrize(("model_type", "tower_type"), [("llava", "pixtral"), ("mistral3", "pixtral"),
                                                        ("qwen2_vl", "qwen2_vl")])
def test_towers_without_an_inner_vision_model_keep_their_names(tmp_path, model_type, tower_type):
    """mistral-community/pixtral-12b is a llava config whose Pixtral tower is saved as vision_tower.*."""
    folder = _folder(tmp_path, model_type, tower_type)
    assert not to_hub_weight_names(folder)
    assert set(safetensors.load_file(folder / "model.safetensors")) == {"vision_tower.encoder.w",
                                                                        "language_model.model.w"}
