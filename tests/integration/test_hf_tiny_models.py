"""The tiny model builders: small, repeatable, and loadable by plain transformers, not only by the adapter."""

from __future__ import annotations

import hashlib
import json

import pytest
import transformers  # noqa: F401  (a missing install must fail, not skip)

from vlmbench.testing import TINY_ARCHS, build_tiny_model, tiny_family

pytestmark = [pytest.mark.integration, pytest.mark.transformers]
# The families the catalog runs only through vLLM have no transformers classes to load them.
HF_ARCHS = tuple(arch for arch in TINY_ARCHS if tiny_family(arch).hf)


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("arch", HF_ARCHS)
def test_a_tiny_model_is_small_repeatable_and_loads_with_plain_transformers(arch, tmp_path):
    from transformers import AutoConfig, AutoModelForImageTextToText, AutoTokenizer

    folder = build_tiny_model(arch, tmp_path / "a")
    size = sum(f.stat().st_size for f in folder.iterdir())
    assert size < 5_000_000
    assert json.loads((folder / "vlmbench-tiny.json").read_text()) == {"arch": arch, "seed": 0}
    family = tiny_family(arch)
    assert AutoConfig.from_pretrained(folder).model_type == (family.model_type or arch)
    if family.placeholder:
        assert family.placeholder in (folder / "chat_template.jinja").read_text()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    for token in family.special_tokens:
        ids = tokenizer(f"a {token} b", add_special_tokens=False)["input_ids"]
        assert tokenizer.convert_tokens_to_ids(token) in ids, f"{token} must stay one token"
    text = "Счёт № 7: total 980,50"
    assert tokenizer.decode(tokenizer(text, add_special_tokens=False)["input_ids"]) == text
    model = AutoModelForImageTextToText.from_pretrained(folder)
    assert model.config.model_type == (family.model_type or arch) and sum(p.numel() for p in model.parameters()) < 1_000_000

    again = build_tiny_model(arch, tmp_path / "b")
    for name in ("model.safetensors", "tokenizer.json"):
        assert digest(folder / name) == digest(again / name), f"{name} differs between two builds"
    other_seed = build_tiny_model(arch, tmp_path / "c", seed=1)
    assert digest(folder / "model.safetensors") != digest(other_seed / "model.safetensors")


def test_an_unknown_architecture_lists_the_known_ones(tmp_path):
    with pytest.raises(ValueError, match="qwen2_5_vl"):
        build_tiny_model("gpt5_vl", tmp_path)



def test_a_tiny_model_is_laid_out_as_vllm_reads_hub_checkpoints(tmp_path):
    """What the real vLLM engine needs of a folder (tests/docker/test_vllm_cpu.py runs it on these)."""
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModelForImageTextToText

    llava = build_tiny_model("llava", tmp_path / "llava")
    saved = load_file(llava / "model.safetensors")
    tower = {name for name in saved if name.startswith("vision_tower.")}
    assert tower and all(name.startswith("vision_tower.vision_model.") for name in tower)
    # transformers 5 reads the hub's names back into the very weights it saved
    loaded = AutoModelForImageTextToText.from_pretrained(llava).model.vision_tower.state_dict()
    assert {f"vision_tower.vision_model.{name}" for name in loaded} <= tower
    assert all(torch.equal(tensor, saved[f"vision_tower.vision_model.{name}"])
               for name, tensor in loaded.items())
    qwen = build_tiny_model("qwen2_vl", tmp_path / "qwen")
    for folder in (llava, qwen):
        text = json.loads((folder / "config.json").read_text())["text_config"]
        assert text["hidden_size"] // text["num_attention_heads"] >= 32  # vLLM's CPU attention kernels
    processor = json.loads((qwen / "processor_config.json").read_text())
    assert processor["video_processor"]["video_processor_type"] == "Qwen2VLVideoProcessor"
