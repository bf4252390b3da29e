"""The Llama 3.2 Vision (Mllama) family: a tiled vision encoder read through cross-attention layers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vlmbench.testing.tiny.common import CONTENT_MACRO, INIT_RANGE, TEXT, TinyFamily

# Llama 3.2 Vision Instruct: "<|begin_of_text|>" and one "<|start_header_id|>role<|end_header_id|>\n\n"
# ... "<|eot_id|>" block per message, "<|image|>" per image. As in the hub's template, a prompt without
# images opens with a system block holding the knowledge date (the hub's takes today's date where
# strftime_now exists; a fixed one keeps these prompts repeatable) and the system prompt, given as a
# plain string (`| trim`); a system prompt with an image is refused.
_MLLAMA_TEMPLATE = CONTENT_MACRO + (
    "{{ bos_token }}"
    "{% if messages[0]['role'] == 'system' %}"
    "{% set system_message = messages[0]['content'] | trim %}{% set messages = messages[1:] %}"
    "{% else %}{% set system_message = '' %}{% endif %}"
    "{% set ns = namespace(has_images=false) %}"
    "{% for message in messages %}{% if message['content'] is not string %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}{% set ns.has_images = true %}{% endif %}"
    "{% endfor %}{% endif %}{% endfor %}"
    "{% if ns.has_images and not system_message == '' %}"
    "{{ raise_exception('Prompting with images is incompatible with system messages.') }}{% endif %}"
    "{% if not ns.has_images %}<|start_header_id|>system<|end_header_id|>\n\n"
    "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n{{ system_message }}<|eot_id|>{% endif %}"
    "{% for message in messages %}"
    "<|start_header_id|>{{ message['role'] }}<|end_header_id|>\n\n{{ content(message, '<|image|>') }}<|eot_id|>"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)

_MLLAMA_TOKENS = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
                  "<|eot_id|>", "<|eom_id|>", "<|python_tag|>", "<|finetune_right_pad_id|>", "<|image|>"]
# As the Instruct tokenizer: <|eot_id|> ends a turn, <|finetune_right_pad_id|> pads.
_MLLAMA_ROLES = {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>",
                 "pad_token": "<|finetune_right_pad_id|>", "image_token": "<|image|>"}


def _mllama(tokenizer: Any, ids: dict[str, int]) -> tuple[Any, Any]:
    import transformers as tf

    # 16-pixel tiles of 8-pixel patches, up to 4 tiles per image; the projector reads the last hidden
    # state and the two intermediate ones side by side (3 x 32 wide).
    vision = tf.MllamaVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                   num_global_layers=1, attention_heads=4, image_size=16, patch_size=8,
                                   max_num_tiles=4, intermediate_layers_indices=[0, 1], vision_output_dim=96,
                                   initializer_range=INIT_RANGE)
    # Three layers, the middle one cross-attending to the image (the real ones interleave one in five).
    text = tf.MllamaTextConfig(**{**TEXT, "num_hidden_layers": 3, "cross_attention_layers": [1],
                                  "vocab_size": len(tokenizer), "bos_token_id": ids["<|begin_of_text|>"],
                                  "eos_token_id": ids["<|eot_id|>"],
                                  "pad_token_id": ids["<|finetune_right_pad_id|>"]})
    config = tf.MllamaConfig(vision_config=vision, text_config=text, image_token_index=ids["<|image|>"])
    images = tf.MllamaImageProcessorPil(size={"height": 16, "width": 16}, max_image_tiles=4)
    processor = tf.MllamaProcessor(images, tokenizer, chat_template=_MLLAMA_TEMPLATE)
    return tf.MllamaForConditionalGeneration(config), processor


def _stop_at_end_of_turn(target: Path) -> None:
    """End answers at <|end_of_text|>, <|eom_id|> or <|eot_id|>, as the hub's generation config does."""
    path = target / "generation_config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    tokenizer = json.loads((target / "tokenizer.json").read_text(encoding="utf-8"))
    ids = {token["content"]: token["id"] for token in tokenizer["added_tokens"]}
    config["eos_token_id"] = [ids["<|end_of_text|>"], ids["<|eom_id|>"], ids["<|eot_id|>"]]
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


FAMILIES: dict[str, TinyFamily] = {
    "mllama": TinyFamily(_MLLAMA_TOKENS, _MLLAMA_ROLES, _mllama, stands_for={"hf": ("Llama-3.2-Vision",)},
                         placeholder="<|image|>", bos="<|begin_of_text|>", finish=_stop_at_end_of_turn),
}

# (framework, catalog model_family) -> why no tiny model here checks those rows. The catalog has no vllm
# Llama-3.2-Vision row: vLLM registers Mllama as removed after 0.10.2 (its Transformers fallback fails
# on the tiny model with "'MllamaProcessor' object has no attribute '_get_num_multimodal_tokens'").
NOT_CHECKED: dict[tuple[str, str], str] = {}
