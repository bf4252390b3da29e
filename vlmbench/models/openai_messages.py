"""Requests as OpenAI chat messages, and back: the one conversion the client, vLLM and our server share.

A :class:`~vlmbench.models.base.Request` becomes an optional system message
and one user message whose content lists the images (inline ``data:`` URLs,
never links the server would have to fetch) followed by the prompt. A
text-only request sends its prompt as a plain string, the shape every
OpenAI-compatible server accepts, even ones serving text-only models.
"""

from __future__ import annotations

import base64
import binascii
import io
from typing import Any, Literal

from PIL import Image

from vlmbench.models.base import GenerationParams, Request

ImageFormat = Literal["png", "jpeg", "auto"]

# Above this many pixels an RGB photo goes as JPEG: PNG of a 12-megapixel photo is ~20 MB of base64.
JPEG_ABOVE_PIXELS = 1024 * 1024
JPEG_QUALITY = 92
# PNG stores these modes as they are; anything else (CMYK, 32-bit float, ...) is converted first.
PNG_MODES = {"1", "L", "LA", "P", "RGB", "RGBA", "I;16"}


class MessageError(ValueError):
    """A chat request this side cannot turn into a Request (bad shape, bad image)."""


def image_data_url(image: Image.Image, image_format: ImageFormat = "auto") -> str:
    """The image as a ``data:image/...;base64,`` URL."""
    use_jpeg = image_format == "jpeg" or (
        image_format == "auto" and image.mode == "RGB" and image.width * image.height > JPEG_ABOVE_PIXELS)
    buffer = io.BytesIO()
    if use_jpeg:
        image.convert("RGB").save(buffer, format="JPEG", quality=JPEG_QUALITY)
        mime = "image/jpeg"
    else:
        (image if image.mode in PNG_MODES else image.convert("RGBA")).save(buffer, format="PNG")
        mime = "image/png"
    return f"data:{mime};base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}"


def decode_data_url(url: str) -> Image.Image:
    """An image from a base64 ``data:`` URL; any other URL is refused (no network fetches)."""
    if not url.startswith("data:"):
        raise MessageError(f"only data: image URLs are accepted, got {url[:40]!r}")
    header, _, payload = url.partition(",")
    if not header.endswith(";base64"):
        raise MessageError("image data URLs must be base64-encoded (data:image/png;base64,...)")
    try:
        image = Image.open(io.BytesIO(base64.b64decode(payload, validate=True)))
        image.load()
    except (binascii.Error, OSError, ValueError) as exc:
        raise MessageError(f"image data URL does not hold a readable image: {exc}") from None
    return image


def to_messages(request: Request, image_format: ImageFormat = "auto") -> list[dict[str, Any]]:
    """The chat messages of one request: system prompt, then images before the prompt text."""
    messages: list[dict[str, Any]] = []
    if request.system_prompt:
        messages.append({"role": "system", "content": request.system_prompt})
    if not request.images:
        messages.append({"role": "user", "content": request.prompt})
        return messages
    # Images first: the order most VLM chat templates (Qwen-VL, LLaVA, Idefics) were trained with.
    content: list[dict[str, Any]] = [
        {"type": "image_url", "image_url": {"url": image_data_url(image, image_format)}}
        for image in request.images]
    content.append({"type": "text", "text": request.prompt})
    messages.append({"role": "user", "content": content})
    return messages


def _content_parts(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list) and all(isinstance(part, dict) for part in content):
        return content
    raise MessageError("message content must be a string or a list of content parts")


def _text_of(parts: list[dict[str, Any]], role: str) -> str:
    texts = []
    for part in parts:
        if part.get("type") != "text":
            raise MessageError(f"{role} messages may hold only text, got a {part.get('type')!r} part")
        texts.append(str(part.get("text", "")))
    return "\n".join(texts)


def from_messages(messages: Any) -> tuple[str, list[Image.Image], str | None]:
    """Prompt, images and system prompt of a single-turn chat (what a Request can hold)."""
    if not isinstance(messages, list) or not messages:
        raise MessageError("'messages' must be a non-empty list")
    systems, texts, images = [], [], []
    for message in messages:
        if not isinstance(message, dict):
            raise MessageError("each message must be an object with 'role' and 'content'")
        role, parts = message.get("role"), _content_parts(message.get("content"))
        if role in ("system", "developer"):
            systems.append(_text_of(parts, role))
        elif role == "user":
            for part in parts:
                kind = part.get("type")
                if kind == "text":
                    texts.append(str(part.get("text", "")))
                elif kind == "image_url":
                    image_url = part.get("image_url")
                    url = image_url.get("url") if isinstance(image_url, dict) else image_url
                    images.append(decode_data_url(str(url)))
                else:
                    raise MessageError(f"unsupported content part type {kind!r}")
        else:
            raise MessageError(f"unsupported role {role!r}: this server answers single-turn chats only")
    if not texts and not images:
        raise MessageError("no user message")
    return "\n".join(texts), images, "\n".join(systems) or None


def to_request(body: dict[str, Any]) -> Request:
    """A chat completion request body as a Request (the server side)."""
    prompt, images, system_prompt = from_messages(body.get("messages"))
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    settings: dict[str, Any] = {}
    if max_tokens is not None:
        settings["max_new_tokens"] = max_tokens
    if body.get("temperature") is not None:
        settings["temperature"] = body["temperature"]
    try:
        params = GenerationParams(**settings)
    except ValueError as exc:
        raise MessageError(f"bad sampling parameters: {exc}") from None
    return Request(prompt=prompt, images=images, system_prompt=system_prompt, params=params)


def answer_text(body: Any) -> str:
    """The assistant's text in a chat completion response; MessageError when there is none."""
    try:
        content = body["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise MessageError("response has no choices[0].message.content") from None
    if content is None:
        return ""  # a refusal or a tool call: no text, which is an answer all the same
    if isinstance(content, list):  # some servers return content parts even for plain text
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content)
