"""The transformers adapter's own logic: params, weights resolution rules, family quirks, chat messages."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from PIL import Image

from vlmbench.errors import ModelLoadError
from vlmbench.models.base import GenerationParams, Request
from vlmbench.models.hf.messages import chat_messages, render_chat, starts_with_bos
from vlmbench.models.hf.quirks import DEFAULT_QWEN_MAX_PIXELS, Quirks, family_quirks, qwen_pixel_bounds
from vlmbench.models.hf.remote_chat import chat_answers, uses_chat_method
from vlmbench.models.hf.settings import parse_settings
from vlmbench.models.hf.weights import hub_offline, looks_like_path, resolve_weights

IMAGE = Image.new("RGB", (8, 8))


def test_settings_refuse_unknown_and_bad_values():
    assert parse_settings({"dtype": "bfloat16", "max_batch_size": 4}, "m").max_batch_size == 4
    with pytest.raises(ModelLoadError, match="temprature") as error:
        parse_settings({"temprature": 0.1}, "m")
    assert "generation" in error.value.problems[0].hint
    with pytest.raises(ModelLoadError, match="dtype"):
        parse_settings({"dtype": "float8"}, "m")


@pytest.mark.parametrize(("weights", "is_path"), [
    ("Qwen/Qwen2-VL-2B-Instruct", False), ("gpt2", False), ("./models/x", True), ("~/m", True),
    ("/abs/folder", True), ("a/b/c", True), ("C:\\models\\x", True),
])
def test_repo_ids_and_paths_are_told_apart(weights, is_path):
    assert looks_like_path(weights) is is_path


def test_offline_mode_is_read_when_asked(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    assert not hub_offline()
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    assert hub_offline()


def test_a_folder_is_used_as_it_is_and_a_missing_one_is_named(tmp_path):
    assert resolve_weights(str(tmp_path), "m") == str(tmp_path)
    with pytest.raises(ModelLoadError, match="no weights"):
        resolve_weights(None, "m")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ModelLoadError, match="is not a folder"):
        resolve_weights(str(tmp_path / "file"), "m")


def qwen_processor(size: dict[str, int]) -> SimpleNamespace:
    return SimpleNamespace(image_processor=SimpleNamespace(size=size))


def test_qwen_bounds_keep_the_checkpoint_but_cap_its_maximum():
    huge = {"shortest_edge": 3136, "longest_edge": 12845056}
    assert qwen_pixel_bounds(qwen_processor(huge).image_processor, None, None) == {
        "shortest_edge": 3136, "longest_edge": DEFAULT_QWEN_MAX_PIXELS}
    assert qwen_pixel_bounds(qwen_processor(huge).image_processor, 256 * 28 * 28, 2048 * 28 * 28) == {
        "shortest_edge": 256 * 28 * 28, "longest_edge": 2048 * 28 * 28}
    small = {"shortest_edge": 3136, "longest_edge": 12544}
    assert qwen_pixel_bounds(qwen_processor(small).image_processor, None, None)["longest_edge"] == 12544
    with pytest.raises(ModelLoadError, match="above max_pixels"):
        qwen_pixel_bounds(qwen_processor(small).image_processor, 20000, None)


def test_family_quirks():
    settings = parse_settings({"max_pixels": 50176}, "m")
    processor = qwen_processor({"shortest_edge": 3136, "longest_edge": 99999})
    quirks = family_quirks("qwen2_5_vl", settings, processor)
    assert quirks == Quirks(call_kwargs={"size": {"shortest_edge": 3136, "longest_edge": 50176}})
    with pytest.raises(ModelLoadError, match="Qwen"):
        family_quirks("llava", settings, None)
    assert family_quirks("idefics3", parse_settings({}, "m"), None) == Quirks()
    got = family_quirks("got_ocr2", parse_settings({"task": "ocr_format"}, "m"), None)
    assert got.style == "ocr" and got.call_kwargs == {"format": True}
    with pytest.raises(ModelLoadError, match="ocr_format"):
        family_quirks("got_ocr2", parse_settings({"task": "caption"}, "m"), None)


def test_florence_task_tokens():
    ocr = family_quirks("florence2", parse_settings({"task": "ocr"}, "m"), None)
    assert ocr.style == "task" and ocr.task_prompt("What is written?") == "<OCR>"
    free = family_quirks("florence2", parse_settings({}, "m"), None)
    assert free.task_prompt(" <CAPTION> ") == "<CAPTION>"
    grounding = "<CAPTION_TO_PHRASE_GROUNDING>a red car"
    assert free.task_prompt(grounding) == grounding
    with pytest.raises(ValueError, match="task"):
        free.task_prompt("What is written?")
    with pytest.raises(ModelLoadError, match="caption"):
        family_quirks("florence2", parse_settings({"task": "vqa"}, "m"), None)


def test_chat_messages_put_images_first_and_system_apart():
    request = Request(prompt="Compare", images=[IMAGE, IMAGE], system_prompt="Be brief")
    assert chat_messages(request) == [
        {"role": "system", "content": [{"type": "text", "text": "Be brief"}]},
        {"role": "user", "content": [{"type": "image"}, {"type": "image"},
                                     {"type": "text", "text": "Compare"}]},
    ]
    assert chat_messages(request, system_in_user=True) == [
        {"role": "user", "content": [{"type": "image"}, {"type": "image"},
                                     {"type": "text", "text": "Be brief\n\nCompare"}]}]
    assert chat_messages(Request(prompt="Hi")) == [
        {"role": "user", "content": [{"type": "text", "text": "Hi"}]}]


class TemplateProcessor:
    """Renders with a real Jinja template the way processors do, refusing a system role like Gemma's."""

    chat_template = "set"

    def __init__(self, refuse_system: bool):
        self.refuse_system = refuse_system

    def apply_chat_template(self, messages, add_generation_prompt, tokenize):
        from jinja2.exceptions import TemplateError

        if self.refuse_system and messages[0]["role"] == "system":
            raise TemplateError("System role not supported")
        return " | ".join(part.get("text", "<img>") for m in messages for part in m["content"])


def test_a_template_without_system_role_gets_it_in_the_user_text():
    request = Request(prompt="Q", system_prompt="S")
    assert render_chat(TemplateProcessor(refuse_system=False), request) == "S | Q"
    assert render_chat(TemplateProcessor(refuse_system=True), request) == "S\n\nQ"


def test_a_processor_without_template_gets_placeholders_and_lines():
    processor = SimpleNamespace(chat_template=None, tokenizer=SimpleNamespace(chat_template=None),
                                image_token="<image>")
    request = Request(prompt="Q", images=[IMAGE], system_prompt="S")
    assert render_chat(processor, request) == "<image>\nS\nQ"


def test_catalog_task_prompt_is_the_task():
    assert parse_settings({"task_prompt": "ocr"}, "m").task == "ocr"
    florence = family_quirks("florence2", parse_settings({"task_prompt": "<OCR>"}, "m"), None)
    assert florence.task_prompt("anything") == "<OCR>"


def test_remote_chat_models_are_recognised_or_refused_clearly():
    assert not uses_chat_method(SimpleNamespace(model_type="qwen2_vl"), "m")
    assert uses_chat_method(SimpleNamespace(model_type="minicpmv", version=2.6), "m")
    assert uses_chat_method(SimpleNamespace(model_type="minicpmo", version=2.6), "m")
    with pytest.raises(ModelLoadError, match="2.6 or later"):
        uses_chat_method(SimpleNamespace(model_type="minicpmv", version=2.5), "m")
    with pytest.raises(ModelLoadError, match="-hf"):
        uses_chat_method(SimpleNamespace(model_type="internvl_chat"), "m")
    assert family_quirks("minicpmv", parse_settings({}, "m"), None).style == "chat_method"


class ChatMethodModel:
    """Answers like MiniCPM-V's chat(): a list of replies for a list of conversations."""

    def __init__(self):
        self.calls = []

    def chat(self, image, msgs, tokenizer, system_prompt="", **options):
        self.calls.append((system_prompt, options))
        return [f"{system_prompt}|{len(m[0]['content']) - 1} images|{m[0]['content'][-1]}" for m in msgs]


def test_chat_method_answers_in_order_one_call_per_system_prompt():
    model = ChatMethodModel()
    requests = [Request(prompt="a", images=[IMAGE]), Request(prompt="b", system_prompt="S"),
                Request(prompt="c", images=[IMAGE, IMAGE])]
    answers = chat_answers(model, None, requests, GenerationParams(max_new_tokens=5), {})
    assert answers == ["|1 images|a", "S|0 images|b", "|2 images|c"]
    assert [system for system, _ in model.calls] == ["", "S"]
    assert model.calls[0][1] == {"max_new_tokens": 5, "sampling": False, "num_beams": 1}
    chat_answers(model, None, requests[:1], GenerationParams(temperature=0.7), {})
    assert model.calls[-1][1]["sampling"] is True and model.calls[-1][1]["temperature"] == 0.7


class JinjaProcessor:
    """Renders a real Jinja template, as processors do."""

    def __init__(self, template: str):
        self.chat_template = template

    def apply_chat_template(self, messages, add_generation_prompt, tokenize):
        from jinja2 import Template

        return Template(self.chat_template).render(messages=messages)


def test_a_template_that_prints_the_system_content_gets_it_as_a_string():
    # Llama 3.2 Vision's template takes messages[0]['content'] | trim: typed parts would print as a list.
    printing = JinjaProcessor("{{ messages[0]['content'] | trim }}|{{ messages[1]['content'][-1]['text'] }}")
    assert render_chat(printing, Request(prompt="Q", system_prompt="S")) == "S|Q"
    # Templates that read typed parts (SmolVLM's) keep getting them.
    reading = JinjaProcessor("{{ messages[0]['content'][0]['text'] }}|{{ messages[1]['content'][-1]['text'] }}")
    assert render_chat(reading, Request(prompt="Q", system_prompt="S")) == "S|Q"
    assert chat_messages(Request(prompt="Q", system_prompt="S"), system_as_text=True)[0] == {
        "role": "system", "content": "S"}


def test_a_bos_the_template_wrote_is_not_added_again():
    tokenizer = SimpleNamespace(bos_token="<bos>")
    assert starts_with_bos(tokenizer, ["<bos><start_of_turn>user\nHi", "<bos>x"])
    assert not starts_with_bos(tokenizer, ["<bos>x", "<|im_start|>User: Hi"])
    assert not starts_with_bos(SimpleNamespace(bos_token=None), ["<bos>x"])
    assert not starts_with_bos(tokenizer, [None])


def test_processors_that_count_images_per_prompt_get_them_so():
    settings = parse_settings({}, "m")
    for model_type in ("smolvlm", "gemma3", "mllama"):
        assert family_quirks(model_type, settings, None).images_per_prompt
    assert not family_quirks("idefics3", settings, None).images_per_prompt


def test_paligemma_prompts_open_with_a_task_prefix():
    answer = family_quirks("paligemma", parse_settings({}, "m"), None)
    assert answer.style == "prefix"
    assert answer.prefixed_prompt(" What is written? ") == "answer en What is written?"
    assert answer.prefixed_prompt("Total?", "Answer with a number.") == "answer en Answer with a number. Total?"
    assert answer.prefixed_prompt("ocr") == "ocr" and answer.prefixed_prompt("caption en", "S") == "caption en"
    russian = family_quirks("paligemma", parse_settings({"task": "answer ru"}, "m"), None)
    assert russian.prefixed_prompt("Итого?") == "answer ru Итого?"
    ocr = family_quirks("paligemma", parse_settings({"task_prompt": "ocr"}, "m"), None)
    assert ocr.prefixed_prompt("Read the text") == "ocr"
    with pytest.raises(ModelLoadError, match="answer en"):
        family_quirks("paligemma", parse_settings({"task": "vqa"}, "m"), None)
