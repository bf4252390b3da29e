"""From a :class:`Request` to the prompt text a model's own chat template makes of it.

A request becomes an optional system message and one user message whose
content is typed parts: one ``{"type": "image"}`` per image, in order,
then the text. Images go first because that is where the VLM families
were trained to see them (Qwen, Idefics3 and LLaVA model cards all put
them there); the template turns each part into the family's placeholder.
"""

from __future__ import annotations

from typing import Any

from vlmbench.models.base import Request

Message = dict[str, Any]


def chat_messages(request: Request, system_in_user: bool = False, system_as_text: bool = False) -> list[Message]:
    """The chat for `request`; `system_in_user` folds the system prompt into the user's text.

    The system message's content is typed parts like the user's, or with `system_as_text` a plain string.
    """
    text = request.prompt
    messages: list[Message] = []
    if request.system_prompt and system_in_user:
        text = f"{request.system_prompt}\n\n{text}"
    elif request.system_prompt:
        system = request.system_prompt if system_as_text else _system_parts(request.system_prompt)
        messages.append({"role": "system", "content": system})
    content: list[dict[str, str]] = [{"type": "image"} for _ in request.images]
    content.append({"type": "text", "text": text})
    messages.append({"role": "user", "content": content})
    return messages


def _system_parts(system_prompt: str) -> list[dict[str, str]]:
    return [{"type": "text", "text": system_prompt}]


def has_chat_template(processor: Any) -> bool:
    tokenizer = getattr(processor, "tokenizer", processor)
    return bool(getattr(processor, "chat_template", None) or getattr(tokenizer, "chat_template", None))


def render_chat(processor: Any, request: Request) -> str:
    """The prompt text for `request`, ending where the assistant's answer starts.

    Templates that refuse a system role (Gemma's, some LLaVA ones) get the
    system prompt at the top of the user's message instead; templates that
    print the system content as a string (Llama 3.2 Vision's ``| trim``)
    get it as a string, not as the Python text of its parts. A processor
    without any template gets the image placeholders, the system prompt
    and the prompt, one per line.
    """
    from jinja2.exceptions import TemplateError

    if not has_chat_template(processor):
        return _plain_prompt(processor, request)
    try:
        prompt = _apply(processor, chat_messages(request))
        if request.system_prompt and str(_system_parts(request.system_prompt)) in prompt:
            prompt = _apply(processor, chat_messages(request, system_as_text=True))
        return prompt
    except TemplateError:
        if not request.system_prompt:
            raise
    return _apply(processor, chat_messages(request, system_in_user=True))


def starts_with_bos(tokenizer: Any, texts: list[str | None]) -> bool:
    """Whether every prompt already opens with the BOS token, as Gemma's and Llama 3's templates write it.

    Their tokenizers add a BOS of their own too; transformers' own ``apply_chat_template`` then encodes
    without special tokens, and so must the adapter, or the model reads two.
    """
    bos = getattr(tokenizer, "bos_token", None)
    return bool(bos) and bool(texts) and all(text is not None and text.startswith(bos) for text in texts)


def _apply(processor: Any, messages: list[Message]) -> str:
    return processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)


def _plain_prompt(processor: Any, request: Request) -> str:
    image_token = getattr(processor, "image_token", None) or ""
    lines = [image_token * len(request.images)] if image_token and request.images else []
    if request.system_prompt:
        lines.append(request.system_prompt)
    lines.append(request.prompt)
    return "\n".join(lines)
