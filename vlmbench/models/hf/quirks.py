"""Where a model family departs from the generic chat-template path.

Three departures are known:

* Qwen2-VL, Qwen2.5-VL and Qwen3-VL resize each image to a pixel budget;
  the checkpoints allow up to 12.8 megapixels, which on a document page
  means thousands of image tokens. ``min_pixels`` / ``max_pixels`` set the
  budget; without them the checkpoint's own bounds are kept, capped at
  :data:`DEFAULT_QWEN_MAX_PIXELS` (the budget Qwen's model cards suggest).
* Florence-2 answers task tokens (``<OCR>``, ``<CAPTION>``) rather than
  chats: the ``task`` param, or a prompt that is a task token, picks one.
* GOT-OCR 2 builds its own prompt from the image; ``task`` ``ocr_format``
  asks for formatted (markdown/LaTeX) output instead of plain text.
* MiniCPM-V / MiniCPM-o bring no processor and answer through their own
  ``chat()`` (see :mod:`.remote_chat`).
* PaliGemma (2 mix) has no chat template: it was trained on task prefixes,
  "answer en <question>", "caption en", "ocr", one image per prompt. A
  prompt gets ``task`` (default ``answer en``) in front of it, unless it
  already opens with a task word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from vlmbench.errors import ModelLoadError
from vlmbench.models.hf.remote_chat import CHAT_METHOD_TYPES
from vlmbench.models.hf.settings import HFSettings

QWEN_TYPES = ("qwen2_vl", "qwen2_5_vl", "qwen3_vl", "qwen3_vl_moe")
DEFAULT_QWEN_MAX_PIXELS = 1280 * 28 * 28
IMAGES_PER_PROMPT_TYPES = ("smolvlm", "gemma3", "mllama")

FLORENCE_TASKS = {
    "ocr": "<OCR>",
    "ocr_with_region": "<OCR_WITH_REGION>",
    "caption": "<CAPTION>",
    "detailed_caption": "<DETAILED_CAPTION>",
    "more_detailed_caption": "<MORE_DETAILED_CAPTION>",
    "object_detection": "<OD>",
}
GOT_OCR_TASKS = {"ocr": False, "ocr_format": True}  # task -> format=True
# The first words of PaliGemma's task prompts ("answer en <question>", "caption en", "detect cat ; dog").
PALIGEMMA_TASK_WORDS = ("answer", "question", "caption", "describe", "ocr", "detect", "segment")
_PALIGEMMA_TASKS_WITH_TEXT = ("answer", "question", "detect", "segment")
PALIGEMMA_DEFAULT_TASK = "answer en"
_TASK_TOKEN = re.compile(r"^<[A-Z_]+>")


@dataclass(frozen=True)
class Quirks:
    """How one family is prompted.

    `chat`: the processor's chat template; `task`: a task token; `ocr`:
    the image alone; `chat_method`: the model's own ``chat()``.
    """

    style: Literal["chat", "task", "ocr", "chat_method", "prefix"] = "chat"
    call_kwargs: dict[str, Any] = field(default_factory=dict)  # extra processor(...) keywords
    task_token: str | None = None
    # The batch's images as one list per prompt: SmolVLM's, Gemma 3's, Mllama's processors count them per prompt
    # and do not split a flat list themselves (Idefics3's does).
    images_per_prompt: bool = False
    stop_tokens: tuple[str, ...] = ()  # tokens that end an answer besides the checkpoint's EOS

    def prefixed_prompt(self, prompt: str, system_prompt: str | None = None) -> str:
        """PaliGemma's text for `prompt`: the task prefix, then the system prompt and the prompt.

        A prompt that is a task prompt already ("ocr", "caption en") is taken as it is: there is no
        place for a system prompt in it. Tasks without a text ("caption en", "ocr") take none.
        """
        prompt = prompt.strip()
        if prompt.split(" ", 1)[0] in PALIGEMMA_TASK_WORDS:
            return prompt
        prefix = self.task_token or PALIGEMMA_DEFAULT_TASK
        if prefix.split(" ", 1)[0] not in _PALIGEMMA_TASKS_WITH_TEXT:
            return prefix
        return " ".join(part for part in (prefix, (system_prompt or "").strip(), prompt) if part)

    def task_prompt(self, prompt: str) -> str:
        """The text a task-token model gets for a request whose prompt is `prompt`."""
        if self.task_token:
            return self.task_token
        if _TASK_TOKEN.match(prompt.strip()):
            return prompt.strip()
        tokens = ", ".join(FLORENCE_TASKS.values())
        raise ValueError(f"this model answers task tokens such as {tokens}, not the prompt {prompt[:60]!r}; "
                         f"set params {{\"task\": \"ocr\"}} (one of {', '.join(FLORENCE_TASKS)}) or use a "
                         "task token as the prompt")


def _size_of(image_processor: Any) -> dict[str, int]:
    size = getattr(image_processor, "size", None) or {}
    return {key: value for key, value in dict(size).items() if value is not None}


def qwen_pixel_bounds(image_processor: Any, min_pixels: int | None, max_pixels: int | None) -> dict[str, int]:
    """The image processor's ``size`` for these bounds: missing ones from the checkpoint, the top capped."""
    size = _size_of(image_processor)
    low = min_pixels or size.get("shortest_edge") or getattr(image_processor, "min_pixels", None) or 56 * 56
    high = max_pixels or min(size.get("longest_edge") or DEFAULT_QWEN_MAX_PIXELS, DEFAULT_QWEN_MAX_PIXELS)
    if low > high:
        raise ModelLoadError(f"min_pixels {low} is above max_pixels {high}",
                             hint="lower min_pixels or raise max_pixels")
    return {"shortest_edge": int(low), "longest_edge": int(high)}


def _unknown_task(task: str, family: str, known: dict[str, Any]) -> ModelLoadError:
    return ModelLoadError(f"{family} has no task {task!r}", hint=f"choose one of {', '.join(known)}")


def family_quirks(model_type: str, settings: HFSettings, processor: Any) -> Quirks:
    """The quirks of the family `model_type` (a config's ``model_type``), checked against `settings`."""
    if model_type in QWEN_TYPES:
        image_processor = getattr(processor, "image_processor", None)
        size = qwen_pixel_bounds(image_processor, settings.min_pixels, settings.max_pixels)
        return Quirks(call_kwargs={"size": size})
    if settings.min_pixels or settings.max_pixels:
        raise ModelLoadError(f"min_pixels/max_pixels apply to the Qwen-VL families, not to {model_type!r}",
                             hint="drop them, or use processor_kwargs for this family's image settings")
    if model_type in CHAT_METHOD_TYPES:
        return Quirks(style="chat_method")
    if model_type in IMAGES_PER_PROMPT_TYPES:
        return Quirks(images_per_prompt=True)
    if model_type == "paligemma":
        task = (settings.task or PALIGEMMA_DEFAULT_TASK).strip()
        if task.split(" ", 1)[0] not in PALIGEMMA_TASK_WORDS:
            raise ModelLoadError(f"PaliGemma has no task {task!r}",
                                 hint="use a task prefix: answer en, caption en, describe en, ocr, ...")
        return Quirks(style="prefix", task_token=task)
    if model_type.startswith("florence"):
        task = settings.task or ""
        if task and task not in FLORENCE_TASKS and not _TASK_TOKEN.fullmatch(task):
            raise _unknown_task(task, "Florence-2", FLORENCE_TASKS)
        # A task name maps to its token; a token (the catalog's "<OCR>") is taken as it is.
        return Quirks(style="task", task_token=FLORENCE_TASKS.get(task, task) or None)
    if model_type == "got_ocr2":
        task = settings.task or "ocr"
        if task not in GOT_OCR_TASKS:
            raise _unknown_task(task, "GOT-OCR 2", GOT_OCR_TASKS)
        # The checkpoint's EOS is <|endoftext|>, but an answer ends with <|im_end|> (transformers' own
        # example stops there): without it a page's text runs on into whatever follows, up to max_new_tokens.
        return Quirks(style="ocr", call_kwargs={"format": GOT_OCR_TASKS[task]}, stop_tokens=("<|im_end|>",))
    return Quirks()
