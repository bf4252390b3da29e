"""The hand-written tiny folders of the vLLM-only families: small, repeatable, in the hub's layout.

vLLM runs them in tests/docker/test_vllm_only_families.py; here only what
the venv can check without vLLM.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from vlmbench.testing.tiny import TINY_ARCHS, build_tiny_model, tiny_family

VLLM_ONLY = [arch for arch in TINY_ARCHS if not tiny_family(arch).hf]


@pytest.mark.parametrize("arch", VLLM_ONLY)
def test_a_vllm_only_folder_is_small_and_repeatable(arch, tmp_path):
    from safetensors.torch import load_file

    first, second = build_tiny_model(arch, tmp_path / "a"), build_tiny_model(arch, tmp_path / "b")
    files = sorted(path.name for path in first.iterdir())
    assert files == sorted(path.name for path in second.iterdir())
    assert all(hashlib.sha256((first / name).read_bytes()).digest()
               == hashlib.sha256((second / name).read_bytes()).digest() for name in files)
    assert sum(path.stat().st_size for path in first.iterdir()) < 5_000_000
    assert sum(tensor.numel() for tensor in load_file(first / "model.safetensors").values()) < 1_000_000
    config = json.loads((first / "config.json").read_text())
    assert config["model_type"] == (tiny_family(arch).model_type or arch)


def test_the_ovis2_folder_has_the_hub_layout(tmp_path):
    from safetensors.torch import load_file
    from transformers import AutoTokenizer

    folder = build_tiny_model("ovis2", tmp_path / "ovis2")
    config = json.loads((folder / "config.json").read_text())
    assert config["architectures"] == ["Ovis"] and config["llm_config"]["model_type"] == "qwen2"
    visual = config["visual_tokenizer_config"]
    assert visual["model_type"] == "aimv2_visual_tokenizer" and visual["backbone_config"]["model_type"] == "aimv2"
    names = load_file(folder / "model.safetensors")
    hidden = config["hidden_size"]
    assert names["vte.weight"].shape == (visual["vocab_size"], hidden)
    assert names["llm.lm_head.weight"].shape[1] == hidden
    assert "visual_tokenizer.backbone.trunk.blocks.0.mlp.fc3.weight" in names  # vLLM stacks fc1 and fc3
    # The visual head predicts all but the 5 image indicator tokens, from 2x2 merged patches.
    width = visual["backbone_config"]["hidden_size"] * visual["hidden_stride"] ** 2
    assert names["visual_tokenizer.head.0.weight"].shape == (visual["vocab_size"] - 5, width)
    preprocessor = json.loads((folder / "preprocessor_config.json").read_text())
    assert preprocessor["image_processor_type"] == "CLIPImageProcessor" and not preprocessor["do_center_crop"]
    tokenizer = AutoTokenizer.from_pretrained(folder)
    # "<image>" is plain text to the Qwen2 tokenizer; vLLM's processor finds and expands it.
    assert "<image>" not in tokenizer.get_vocab() and "<|image_pad|>" in tokenizer.get_vocab()
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Colour?"}]}]
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert prompt == ("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                      "<|im_start|>user\n<image>\nColour?<|im_end|>\n<|im_start|>assistant\n")
