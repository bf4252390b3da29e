"""Requests ↔ OpenAI chat messages: the conversion the client, vLLM and the test server share."""

import base64
import io

import pytest
from PIL import Image, ImageDraw

from vlmbench.models.base import GenerationParams, Request
from vlmbench.models.openai_messages import (
    MessageError,
    answer_text,
    decode_data_url,
    from_messages,
    image_data_url,
    to_messages,
    to_request,
)


def pattern(mode: str, size: tuple[int, int] = (37, 23)) -> Image.Image:
    image = Image.new("RGB", size, (250, 240, 230))
    draw = ImageDraw.Draw(image)
    draw.rectangle((3, 4, 20, 15), fill=(10, 200, 30))
    draw.line((0, 22, 36, 0), fill=(200, 0, 90), width=2)
    return image.convert(mode)


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "P", "1"])
def test_png_round_trip_keeps_every_pixel_and_the_mode(mode):
    image = pattern(mode)
    url = image_data_url(image)
    assert url.startswith("data:image/png;base64,")
    back = decode_data_url(url)
    assert back.mode == image.mode and back.size == image.size
    assert back.tobytes() == image.tobytes()


def test_large_photos_go_as_jpeg_small_ones_and_forced_png_stay_lossless():
    photo = pattern("RGB", (1400, 900))
    assert image_data_url(photo).startswith("data:image/jpeg;base64,")
    assert image_data_url(photo, "png").startswith("data:image/png;base64,")
    assert image_data_url(pattern("RGB"), "jpeg").startswith("data:image/jpeg;base64,")
    assert decode_data_url(image_data_url(photo)).size == (1400, 900)


def test_modes_png_cannot_hold_are_converted_not_rejected():
    cmyk = pattern("CMYK")
    assert decode_data_url(image_data_url(cmyk)).mode == "RGBA"


def test_text_only_request_is_a_plain_string_message_with_system_first():
    messages = to_messages(Request(prompt="2+2?", system_prompt="Answer briefly."))
    assert messages == [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "2+2?"}]


def test_images_come_before_the_prompt_in_order():
    first, second = pattern("RGB"), pattern("L", (5, 9))
    (user,) = to_messages(Request(prompt="Compare", images=[first, second]))
    kinds = [part["type"] for part in user["content"]]
    assert kinds == ["image_url", "image_url", "text"]
    assert decode_data_url(user["content"][1]["image_url"]["url"]).size == (5, 9)
    assert user["content"][2]["text"] == "Compare"


@pytest.mark.parametrize("n_images", [0, 1, 3])
def test_request_survives_the_round_trip_through_a_chat_body(n_images):
    images = [pattern("RGB", (10 + i, 12)) for i in range(n_images)]
    request = Request(prompt="What is written?", images=images, system_prompt="Be exact.",
                      params=GenerationParams(max_new_tokens=17, temperature=0.5))
    body = {"model": "m", "messages": to_messages(request), "max_tokens": 17, "temperature": 0.5}
    back = to_request(body)
    assert (back.prompt, back.system_prompt) == (request.prompt, request.system_prompt)
    assert back.params == request.params
    assert [im.size for im in back.images] == [im.size for im in images]
    assert all(a.tobytes() == b.tobytes() for a, b in zip(back.images, images, strict=True))


def test_max_completion_tokens_is_read_and_defaults_apply_when_absent():
    messages = [{"role": "user", "content": "hi"}]
    assert to_request({"messages": messages, "max_completion_tokens": 5}).params.max_new_tokens == 5
    assert to_request({"messages": messages}).params == GenerationParams()


@pytest.mark.parametrize("body, fragment", [
    ({"messages": []}, "non-empty list"),
    ({"messages": [{"role": "assistant", "content": "hi"}]}, "single-turn"),
    ({"messages": [{"role": "user", "content": [{"type": "input_audio"}]}]}, "input_audio"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url",
                                                 "image_url": {"url": "https://example.com/a.png"}}]}]},
     "only data: image URLs"),
    ({"messages": [{"role": "user", "content": "x"}], "max_tokens": 0}, "bad sampling parameters"),
    ({"messages": [{"role": "system", "content": [{"type": "image_url", "image_url": {"url": "data:,"}}]}]},
     "only text"),
])
def test_requests_a_single_turn_request_cannot_hold_are_refused_with_a_reason(body, fragment):
    with pytest.raises(MessageError, match=fragment):
        to_request(body)


def test_undecodable_data_urls_are_refused():
    with pytest.raises(MessageError, match="base64-encoded"):
        decode_data_url("data:image/png,rawbytes")
    with pytest.raises(MessageError, match="readable image"):
        decode_data_url("data:image/png;base64," + base64.b64encode(b"not an image").decode())
    with pytest.raises(MessageError, match="readable image"):
        decode_data_url("data:image/png;base64,@@@")


def test_image_url_given_as_a_bare_string_is_accepted():
    buffer = io.BytesIO()
    pattern("RGB").save(buffer, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    message = {"role": "user", "content": [{"type": "image_url", "image_url": url}]}
    prompt, images, system = from_messages([message])
    assert (prompt, len(images), system) == ("", 1, None)


@pytest.mark.parametrize("body, expected", [
    ({"choices": [{"message": {"content": "Paris"}}]}, "Paris"),
    ({"choices": [{"message": {"content": None}}]}, ""),
    ({"choices": [{"message": {"content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}}]},
     "ab"),
])
def test_answer_text_reads_the_shapes_servers_return(body, expected):
    assert answer_text(body) == expected


@pytest.mark.parametrize("body", [{}, {"choices": []}, {"choices": [{}]}, ["x"], None])
def test_answer_text_refuses_bodies_without_an_answer(body):
    with pytest.raises(MessageError, match="choices"):
        answer_text(body)
