"""The transformers adapter on families that are not chats: Florence-2 (task tokens), GOT-OCR 2 (the image).

The shared tests in test_hf_adapter.py vary prompts and image counts; these
models read one image and ignore free text, so what matters here is what
does reach them: the task, the image, and a batch padded as their
architecture needs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import transformers  # noqa: F401  (a missing install must fail, not skip)
from PIL import Image

from vlmbench.errors import ModelLoadError
from vlmbench.models.base import GenerationParams, Request
from vlmbench.models.hf.adapter import HFVisionModel
from vlmbench.models.hf.quirks import FLORENCE_TASKS, GOT_OCR_TASKS
from vlmbench.testing import build_tiny_model

pytestmark = [pytest.mark.integration, pytest.mark.transformers]

SHORT = GenerationParams(max_new_tokens=10)


def picture(width: int, height: int, colour: tuple[int, int, int]) -> Image.Image:
    image = Image.new("RGB", (width, height), colour)
    image.paste((255 - colour[0], 20, 200), (width // 4, height // 4, width // 2, height // 2))
    return image


IMAGES = (picture(100, 60, (200, 10, 10)), picture(48, 90, (10, 40, 220)), picture(300, 120, (30, 160, 60)))


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny-task-models")
    return {arch: build_tiny_model(arch, root / arch) for arch in ("florence2", "got_ocr2")}


@pytest.fixture(scope="module")
def florence(folders) -> HFVisionModel:
    """Florence-2 without a task: each prompt must be a task token."""
    return HFVisionModel(weights=str(folders["florence2"]))


def requests_for(prompts: list[str], params: GenerationParams = SHORT) -> list[Request]:
    return [Request(prompt=prompt, images=[image], params=params) for prompt in prompts for image in IMAGES]


# --- Florence-2 ------------------------------------------------------------------------------------------

def test_florence_each_task_token_gets_its_own_answers(florence):
    answers = {token: florence.generate(requests_for([token])) for token in FLORENCE_TASKS.values()}
    # the image reaches the model: three pictures, three answers, for every task
    assert all(len(set(per_image)) == len(IMAGES) for per_image in answers.values())
    # and the task does: no two tasks answer all three pictures alike
    assert len({tuple(per_image) for per_image in answers.values()}) == len(FLORENCE_TASKS)


def test_florence_task_param_and_catalog_task_prompt_equal_the_token_as_prompt(folders, florence):
    by_token = florence.generate(requests_for(["<CAPTION>"]))
    by_name = HFVisionModel(weights=str(folders["florence2"]), task="caption")
    # With a task set, the request's prompt is not read (a dataset's question does not reach the model).
    assert by_name.generate(requests_for(["What is written?"])) == by_token
    # models.csv's Florence-2 rows say it so
    catalog_row = HFVisionModel(weights=str(folders["florence2"]), task_prompt="<OCR>")
    by_row = catalog_row.generate(requests_for(["What is written?"]))
    assert by_row == florence.generate(requests_for(["<OCR>"]))


def test_florence_batches_of_mixed_tasks_are_padded_on_the_right_and_equal_one_by_one(florence):
    # The tasks' questions differ in length, so the batch needs padding; an encoder numbers positions from
    # the first token, so padding on the left would change the shorter prompts' answers.
    requests = requests_for(["<OCR>", "<MORE_DETAILED_CAPTION>", "<OD>"])
    mask = florence.prepare_inputs(requests)["attention_mask"]
    assert mask[:, 0].all() and not mask[:, -1].all()
    assert florence.generate(requests) == [florence.generate([request])[0] for request in requests]


def test_florence_refuses_a_free_prompt_and_an_unknown_task(folders, florence):
    with pytest.raises(ValueError, match="answers task tokens such as <OCR>"):
        florence.generate([Request(prompt="What is written?", images=[IMAGES[0]], params=SHORT)])
    with pytest.raises(ModelLoadError, match="no task 'summary'"):
        HFVisionModel(weights=str(folders["florence2"]), task="summary")


@pytest.mark.parametrize("images", [[], list(IMAGES[:2])], ids=["no image", "two images"])
def test_task_models_read_exactly_one_image(folders, florence, images):
    got = HFVisionModel(weights=str(folders["got_ocr2"]))
    for model, prompt in ((florence, "<OCR>"), (got, "Read it")):
        with pytest.raises(ValueError, match="reads one image per request"):
            model.generate([Request(prompt=prompt, images=images, params=SHORT)])


# --- GOT-OCR 2 -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def got(folders) -> dict[str, HFVisionModel]:
    return {task: HFVisionModel(weights=str(folders["got_ocr2"]), task=task) for task in GOT_OCR_TASKS}


def test_got_ocr_and_ocr_format_ask_differently_and_answer_differently(got):
    requests = requests_for(["Read the text"])
    prompts = {task: model.tokenizer.batch_decode(model.prepare_inputs(requests)["input_ids"])
               for task, model in got.items()}
    ending = "<|im_end|><|im_start|>assistant\n"
    assert all(text.endswith(f"OCR: {ending}") for text in prompts["ocr"])
    assert all(text.endswith(f"OCR with format: {ending}") for text in prompts["ocr_format"])
    answers = {task: model.generate(requests) for task, model in got.items()}
    assert all(len(set(per_image)) == len(IMAGES) for per_image in answers.values())
    assert answers["ocr"] != answers["ocr_format"]


@pytest.mark.parametrize("task", list(GOT_OCR_TASKS))
def test_got_batched_equals_one_by_one_and_the_prompt_text_is_not_read(got, task):
    model = got[task]
    requests = requests_for(["Read the text", "Какая сумма?"])
    batched = model.generate(requests)
    assert batched == [model.generate([request])[0] for request in requests]
    # GOT-OCR 2 builds its own prompt from the image: two questions about one picture, one answer.
    assert batched[:len(IMAGES)] == batched[len(IMAGES):]


def test_got_max_new_tokens_and_unknown_task(folders, got):
    model = got["ocr"]
    before = model.tokens_generated
    short = model.generate(requests_for(["x"], GenerationParams(max_new_tokens=3)))
    assert 0 < model.tokens_generated - before <= 3 * len(short)
    long = model.generate(requests_for(["x"], GenerationParams(max_new_tokens=12)))
    assert all(lo.startswith(s.rstrip("\ufffd")) for s, lo in zip(short, long, strict=True))
    with pytest.raises(ModelLoadError, match="no task 'caption'"):
        HFVisionModel(weights=str(folders["got_ocr2"]), task="caption")


def test_got_answers_end_at_im_end_as_well_as_at_the_checkpoints_eos(got):
    """The hub checkpoint's EOS is <|endoftext|>; its answers end with <|im_end|>: both must stop them."""
    model = got["ocr"]
    tokenizer = model.tokenizer
    assert model.model.generation_config.eos_token_id == tokenizer.convert_tokens_to_ids("<|endoftext|>")
    stops = model._generation_config(SHORT).eos_token_id
    assert set(stops) == {tokenizer.convert_tokens_to_ids(token) for token in ("<|endoftext|>", "<|im_end|>")}
