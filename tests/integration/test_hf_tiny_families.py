"""Family departures the transformers adapter handles, on tiny SmolVLM, Gemma 3, PaliGemma 2 and Mllama models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import transformers  # noqa: F401  (a missing install must fail, not skip)
from PIL import Image

from vlmbench.models.base import GenerationParams, Request
from vlmbench.models.hf.adapter import HFVisionModel
from vlmbench.testing import build_tiny_model

pytestmark = [pytest.mark.integration, pytest.mark.transformers]

SHORT = GenerationParams(max_new_tokens=4)
IMAGE = Image.new("RGB", (40, 30), (200, 10, 10))


@pytest.fixture(scope="module")
def load(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("tiny-families")
    loaded: dict[str, HFVisionModel] = {}

    def get(arch: str) -> HFVisionModel:
        if arch not in loaded:
            loaded[arch] = HFVisionModel(weights=str(build_tiny_model(arch, root / arch)))
        return loaded[arch]

    return get


@pytest.mark.parametrize("arch", ["gemma3", "mllama"])
def test_a_template_that_writes_the_bos_gets_no_second_one(arch, load):
    model = load(arch)
    bos = model.tokenizer.bos_token_id
    requests = [Request(prompt="Hi", params=SHORT), Request(prompt="What?", images=[IMAGE], params=SHORT)]
    for ids, mask in zip(*(model.prepare_inputs(requests)[key] for key in ("input_ids", "attention_mask")),
                         strict=True):
        real = ids[mask.bool()].tolist()
        assert real[0] == bos and real.count(bos) == 1


def test_paligemma_gets_its_image_and_a_task_prompt_one_image_each(load):
    model = load("paligemma")
    request = Request(prompt="What is it?", images=[IMAGE], system_prompt="Be brief.", params=SHORT)
    assert model.format_prompt(request) == "<image>answer en Be brief. What is it?"
    tokens = model.tokenizer.convert_ids_to_tokens(model.prepare_inputs([request])["input_ids"][0])
    # The processor expands the image and puts the BOS between it and the prompt, which ends in a newline.
    assert tokens[:17] == ["<image>"] * 16 + ["<bos>"] and tokens.count("<bos>") == 1
    assert model.tokenizer.decode(model.prepare_inputs([request])["input_ids"][0][17:]).endswith("?\n")
    for images in ([], [IMAGE, IMAGE]):
        with pytest.raises(ValueError, match="one image"):
            model.format_prompt(request.model_copy(update={"images": images}))


def test_llama_vision_gets_a_system_prompt_as_text_or_in_the_user_turn(load):
    model = load("mllama")
    text_only = model.format_prompt(Request(prompt="Hi", system_prompt="Be brief.", params=SHORT))
    assert "2024\n\nBe brief.<|eot_id|>" in text_only and "'type'" not in text_only
    # The template refuses a system prompt beside an image: it opens the user's turn instead.
    with_image = model.format_prompt(Request(prompt="Hi", images=[IMAGE], system_prompt="Be brief.", params=SHORT))
    assert "user<|end_header_id|>\n\n<|image|>Be brief.\n\nHi<|eot_id|>" in with_image


def test_smolvlm_keeps_its_image_token_count_and_takes_images_per_prompt(load):
    model = load("smolvlm")
    saved = json.loads((Path(model.path) / "processor_config.json").read_text())
    assert saved["image_seq_len"] == 4
    requests = [Request(prompt="A", images=[IMAGE], params=SHORT), Request(prompt="B", params=SHORT),
                Request(prompt="C", images=[IMAGE, IMAGE], params=SHORT)]
    assert len(model.generate(requests)) == 3


@pytest.mark.parametrize("arch", ["gemma3", "paligemma"])
def test_gemma_towers_are_saved_under_the_hub_names_and_load_back(arch, load):
    """vLLM's Gemma 3 reads vision_tower.vision_model.*, as the hub's checkpoints hold it."""
    import torch
    from safetensors.torch import load_file

    model = load(arch)
    saved = load_file(Path(model.path) / "model.safetensors")
    tower = {name for name in saved if name.startswith("vision_tower.")}
    assert tower and all(name.startswith("vision_tower.vision_model.") for name in tower)
    loaded = model.model.model.vision_tower.state_dict()
    assert all(torch.equal(tensor.float(), saved[f"vision_tower.vision_model.{name}"].float())
               for name, tensor in loaded.items())
