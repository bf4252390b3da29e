"""The Qwen3-VL and InternVL tiny folders are laid out as their hub checkpoints, which vLLM reads as they are."""

from __future__ import annotations

import json

import pytest

from vlmbench.testing import build_tiny_model

pytestmark = [pytest.mark.integration, pytest.mark.transformers]


def test_qwen3_vl_moe_experts_are_stored_as_the_hub_stores_them(tmp_path):
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModelForImageTextToText

    folder = build_tiny_model("qwen3_vl_moe", tmp_path / "moe")
    text = json.loads((folder / "config.json").read_text())["text_config"]
    hidden, width = text["hidden_size"], text["moe_intermediate_size"]
    experts = text.get("num_experts") or text["num_local_experts"]  # transformers 5 writes the latter
    assert text["norm_topk_prob"] is True  # vLLM reads it; transformers always renormalises
    saved = load_file(folder / "model.safetensors")
    prefix = "model.language_model.layers.0.mlp.experts."
    # the hub's (experts, in, out), not transformers 5's (experts, out, in)
    assert saved[prefix + "gate_up_proj"].shape == (experts, hidden, 2 * width)
    assert saved[prefix + "down_proj"].shape == (experts, width, hidden)
    loaded = AutoModelForImageTextToText.from_pretrained(folder).model.language_model.layers[0].mlp.experts
    assert torch.equal(loaded.gate_up_proj, saved[prefix + "gate_up_proj"].transpose(1, 2))
    assert torch.equal(loaded.down_proj, saved[prefix + "down_proj"].transpose(1, 2))


@pytest.mark.parametrize(("arch", "video_processor"), [("qwen3_vl", "Qwen3VLVideoProcessor"),
                                                       ("internvl", "InternVLVideoProcessor")])
def test_the_folder_names_the_video_processor_vllm_builds(arch, video_processor, tmp_path):
    folder = build_tiny_model(arch, tmp_path / arch)
    processor = json.loads((folder / "processor_config.json").read_text())
    assert processor["video_processor"]["video_processor_type"] == video_processor
    text = json.loads((folder / "config.json").read_text())["text_config"]
    head_dim = text.get("head_dim") or text["hidden_size"] // text["num_attention_heads"]
    assert head_dim >= 32  # vLLM's CPU attention kernels
    if arch == "qwen3_vl":  # interleaved multimodal rotary sections cover half a head, as on the hub
        assert text["rope_parameters"]["mrope_interleaved"] and sum(text["rope_parameters"]["mrope_section"]) == 16
