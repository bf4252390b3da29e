"""The pieces of the easy-VQA training code, on tiny inputs: labels, template, batching, saving."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

from vlmbench.training.attributes import COLORS, SHAPES, UNKNOWN, facts, image_labels
from vlmbench.training.easyvqa_data import (
    EasyVqaSplit,
    batches_by_image,
    encode_questions,
    load_split,
    make_batch,
    pixel_tensor,
    tokenizer_corpus,
)
from vlmbench.training.loop import batch_loss
from vlmbench.training.shipping import save_model_folder
from vlmbench.training.tiny_llava import TinyLlavaSize, build_model, build_processor, train_tokenizer

TINY = TinyLlavaSize(image_size=16, patch_size=8, vision_hidden=16, vision_layers=1, text_hidden=16,
                     text_layers=1, heads=2, vocab_size=300)


@pytest.mark.parametrize(("question", "answer", "expected"), [
    ("what color is the circle?", "red", ("circle", "red")),
    ("what is the color of the shape?", "teal", (None, "teal")),
    ("what is the blue shape?", "triangle", ("triangle", "blue")),
    ("is there a red shape?", "yes", (None, "red")),
    ("is there a red shape?", "no", (None, None)),
    ("is there not a red shape in the image?", "no", (None, "red")),
    ("is there not a red shape in the image?", "yes", (None, None)),
    ("is no rectangle present?", "no", ("rectangle", None)),
    ("does the image not contain a circle?", "yes", (None, None)),
    ("does the image contain a circle?", "yes", ("circle", None)),
])
def test_facts_read_shape_and_colour_off_a_question_and_its_answer(question, answer, expected):
    assert facts(question, answer) == expected


def test_image_labels_index_the_vocabularies_and_refuse_contradictions():
    shapes, colors = image_labels(["what color is the circle?", "is there a blue shape?"], ["red", "no"], [1, 0], 3)
    assert shapes == [UNKNOWN, SHAPES.index("circle"), UNKNOWN]
    assert colors == [UNKNOWN, COLORS.index("red"), UNKNOWN]
    with pytest.raises(ValueError, match="contradicts"):
        image_labels(["what shape is present?", "is a triangle present?"], ["circle", "yes"], [0, 0], 1)


def test_every_easy_vqa_train_image_but_a_few_gets_consistent_labels():
    split = load_split("train")
    shapes, colors = image_labels(split.questions, split.answers, split.image_index, len(split.image_paths))
    assert sum(s != UNKNOWN for s in shapes) > 0.9 * len(shapes)
    assert sum(c != UNKNOWN for c in colors) > 0.9 * len(colors)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    questions = ["what color is the shape?", "is there a red shape?", "what shape is present?"]
    answers = ["red", "yes", "circle"]
    split = EasyVqaSplit(questions, answers, [0, 0, 1], [])
    tokenizer = train_tokenizer(tokenizer_corpus(split), TINY.vocab_size)
    processor = build_processor(tokenizer, TINY)
    model = build_model(tokenizer, TINY, seed=0)
    folder = tmp_path_factory.mktemp("images")
    for index, color in enumerate(("red", "blue")):
        split.image_paths.append(str(folder / f"{index}.png"))
        Image.new("RGB", (16, 16), color).save(split.image_paths[-1])
    return split, processor, model


def test_the_template_puts_images_first_and_keeps_system_prompts(tiny):
    _, processor, _ = tiny
    messages = [{"role": "system", "content": "Answer in one word."},
                {"role": "user", "content": [{"type": "text", "text": " what shape? "}, {"type": "image"}]}]
    text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    assert text == "<|system|>Answer in one word.<|end|><|user|><image>what shape?<|end|><|assistant|>"


def test_one_vision_pass_per_image_gives_the_models_own_loss(tiny):
    split, processor, model = tiny
    encoded = encode_questions(processor, split.questions, split.answers)
    pixels = pixel_tensor(processor, split.image_paths)
    batch = make_batch([0, 1, 2], split, encoded, pixels, processor.tokenizer.pad_token_id)
    assert batch.pixel_values.shape[0] == 2 and batch.image_of_row.tolist() == [0, 0, 1]
    assert (batch.labels != -100).sum(1).tolist() == [2, 2, 2]  # the answer word and the end token
    shared, class_tokens = batch_loss(model, batch)
    plain = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask, labels=batch.labels,
                  pixel_values=batch.pixel_values[batch.image_of_row]).loss
    assert torch.allclose(shared, plain, atol=1e-6)
    assert class_tokens.shape == (2, TINY.vision_hidden)


def test_batches_hold_every_question_of_their_images(tiny):
    split, _, _ = tiny
    batches = batches_by_image(split, 1, torch.Generator().manual_seed(0))
    assert sorted(map(sorted, batches)) == [[0, 1], [2]]


def test_the_saved_folder_loads_with_auto_classes_in_half_precision(tiny, tmp_path):
    from transformers import AutoModelForImageTextToText, AutoProcessor

    _, processor, model = tiny
    size = save_model_folder(model, processor, tmp_path / "out", "bfloat16")
    model.float()
    assert size == (tmp_path / "out" / "model.safetensors").stat().st_size
    assert all(path.stat().st_mode & 0o777 == 0o644 for path in (tmp_path / "out").iterdir())
    config = json.loads((tmp_path / "out" / "tokenizer_config.json").read_text())
    assert config["tokenizer_class"] == "PreTrainedTokenizerFast"
    loaded = AutoModelForImageTextToText.from_pretrained(tmp_path / "out")
    assert loaded.dtype == torch.bfloat16
    assert AutoProcessor.from_pretrained(tmp_path / "out").tokenizer.padding_side == "left"


def test_training_is_repeatable_for_a_seed(tiny):
    from vlmbench.training.loop import TrainSettings, train

    split, processor, _ = tiny
    encoded = encode_questions(processor, split.questions, split.answers)
    pixels = pixel_tensor(processor, split.image_paths)

    def weights(seed: int) -> torch.Tensor:
        model = build_model(processor.tokenizer, TINY, seed=seed)
        settings = TrainSettings(epochs=3, images_per_batch=1, warmup_steps=1, seed=seed)
        train(model, split, encoded, pixels, processor.tokenizer.pad_token_id, settings, log=lambda _: None)
        return torch.cat([p.detach().flatten() for p in model.parameters()])

    first = weights(0)
    assert torch.equal(first, weights(0))
    assert not torch.equal(first, weights(1))
