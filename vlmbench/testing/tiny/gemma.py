"""The PaliGemma 2 and Gemma 3 family."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vlmbench.testing.tiny.common import CONTENT_MACRO, INIT_RANGE, TEXT, TinyFamily

# Gemma 3: "<bos><start_of_turn>user\n" ... "<end_of_turn>\n", the assistant is "model", each image a
# <start_of_image> the processor expands; a system prompt opens the first user turn, as the hub's
# template folds it (Gemma has no system role).
_GEMMA3_TEMPLATE = CONTENT_MACRO + (
    "{{ bos_token }}"
    "{% if messages[0]['role'] == 'system' %}"
    "{% set prefix = content(messages[0], '') + '\n\n' %}{% set turns = messages[1:] %}"
    "{% else %}{% set prefix = '' %}{% set turns = messages %}{% endif %}"
    "{% for message in turns %}"
    "<start_of_turn>{{ 'model' if message['role'] == 'assistant' else message['role'] }}\n"
    "{{ prefix if loop.first else '' }}{{ content(message, '<start_of_image>') | trim }}<end_of_turn>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)

_GEMMA3_TOKENS = ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>", "<start_of_image>",
                  "<end_of_image>", "<image_soft_token>"]
_GEMMA3_ROLES = {"pad_token": "<pad>", "eos_token": "<eos>", "bos_token": "<bos>", "unk_token": "<unk>",
                 "boi_token": "<start_of_image>", "eoi_token": "<end_of_image>", "image_token": "<image_soft_token>"}


def _gemma3(tokenizer: Any, ids: dict[str, int]) -> tuple[Any, Any]:
    import transformers as tf

    # Gemma's vocabulary has runs of newlines as tokens of their own; vLLM looks "\n" to "\n\n\n\n" up
    # in it to join the newlines around an image's tokens.
    tokenizer.add_tokens([tf.AddedToken("\n" * count, normalized=False) for count in range(1, 5)])
    # 32-pixel images of 8-pixel patches (4x4) pooled 2x2: 4 image tokens per image.
    vision = tf.SiglipVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                   num_attention_heads=4, image_size=32, patch_size=8,
                                   vision_use_head=False, initializer_range=INIT_RANGE)
    # One sliding-window layer and one global one, as the real models interleave them.
    text = tf.Gemma3TextConfig(**{**TEXT, "vocab_size": len(tokenizer), "head_dim": 32,
                                  "query_pre_attn_scalar": 32, "sliding_window": 256,
                                  "layer_types": ["sliding_attention", "full_attention"],
                                  "bos_token_id": ids["<bos>"], "eos_token_id": ids["<eos>"],
                                  "pad_token_id": ids["<pad>"]})
    config = tf.Gemma3Config(text_config=text, vision_config=vision, mm_tokens_per_image=4,
                             boi_token_index=ids["<start_of_image>"], eoi_token_index=ids["<end_of_image>"],
                             image_token_index=ids["<image_soft_token>"], initializer_range=INIT_RANGE)
    images = tf.Gemma3ImageProcessorPil(size={"height": 32, "width": 32}, image_mean=[0.5] * 3,
                                        image_std=[0.5] * 3)
    processor = tf.Gemma3Processor(images, tokenizer, chat_template=_GEMMA3_TEMPLATE, image_seq_length=4)
    model = tf.Gemma3ForConditionalGeneration(config)
    _shrink_tied_embeddings(model)
    return model, processor


_PALIGEMMA_TOKENS = ["<pad>", "<eos>", "<bos>", "<unk>", "<image>"]
_PALIGEMMA_ROLES = {"pad_token": "<pad>", "eos_token": "<eos>", "bos_token": "<bos>", "unk_token": "<unk>",
                    "image_token": "<image>"}


def _paligemma(tokenizer: Any, ids: dict[str, int]) -> tuple[Any, Any]:
    import transformers as tf

    # 32-pixel images of 8-pixel patches: 16 image tokens, no pooling (as PaliGemma's 448-pixel 1024).
    images = tf.SiglipImageProcessorPil(size={"height": 32, "width": 32}, image_mean=[0.5] * 3,
                                        image_std=[0.5] * 3, image_seq_length=16)
    # No chat template: paligemma2-mix checkpoints ship none. The processor adds the <loc>/<seg> tokens
    # the real vocabulary has, so the model's vocabulary is sized after it.
    processor = tf.PaliGemmaProcessor(images, tokenizer)
    vision = tf.SiglipVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                   num_attention_heads=4, image_size=32, patch_size=8,
                                   vision_use_head=False, initializer_range=INIT_RANGE)
    # PaliGemma 2: a Gemma 2 with its logit soft-capping and one sliding-window and one global layer.
    text = tf.Gemma2Config(**{**TEXT, "vocab_size": len(tokenizer), "head_dim": 32, "query_pre_attn_scalar": 32,
                              "sliding_window": 256, "layer_types": ["sliding_attention", "full_attention"],
                              "bos_token_id": ids["<bos>"], "eos_token_id": ids["<eos>"],
                              "pad_token_id": ids["<pad>"]})
    config = tf.PaliGemmaConfig(vision_config=vision, text_config=text, image_token_index=ids["<image>"],
                                vocab_size=len(tokenizer), hidden_size=TEXT["hidden_size"],
                                projection_dim=TEXT["hidden_size"], pad_token_id=ids["<pad>"])
    model = tf.PaliGemmaForConditionalGeneration(config)
    _shrink_tied_embeddings(model)
    return model, processor


def _shrink_tied_embeddings(model: Any) -> None:
    """Scale the token embeddings by 1/sqrt(hidden_size), undoing Gemma's input scaling.

    Gemma multiplies each input embedding by sqrt(hidden_size) and reads the logits off the same (tied)
    matrix; at random init the scaled embedding then drowns the layers' output and every answer repeats
    the prompt's last token. Trained checkpoints have small embeddings; so do these.
    """
    import torch

    embeddings = model.get_input_embeddings()
    with torch.no_grad():
        embeddings.weight.mul_(model.config.text_config.hidden_size ** -0.5)


def _stop_at_end_of_turn(target: Path) -> None:
    """Make an answer end at <end_of_turn> or <eos>, as the hub's Gemma generation configs do."""
    path = target / "generation_config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    tokenizer = json.loads((target / "tokenizer.json").read_text(encoding="utf-8"))
    ids = {token["content"]: token["id"] for token in tokenizer["added_tokens"]}
    config["eos_token_id"] = [ids["<eos>"], ids["<end_of_turn>"]]
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


FAMILIES: dict[str, TinyFamily] = {
    # vLLM reads the folder as the hub's gemma-3-*-it (language_model.model.*, vision_tower.vision_model.*).
    "gemma3": TinyFamily(_GEMMA3_TOKENS, _GEMMA3_ROLES, _gemma3, stands_for={"hf": ("Gemma3",), "vllm": ("Gemma3",)},
                         placeholder="<start_of_image>", bos="<bos>", finish=_stop_at_end_of_turn),
    # One image per request, and none is no request: the processor puts the image tokens and the BOS
    # in front of the adapter's task prompt ("<image>answer en ...").
    "paligemma": TinyFamily(_PALIGEMMA_TOKENS, _PALIGEMMA_ROLES, _paligemma, stands_for={"hf": ("PaliGemma2",)},
                            placeholder=None, max_images=1, text_only=False, bos="<bos>"),
}

# (framework, catalog model_family) -> why no tiny model here checks those rows.
NOT_CHECKED: dict[tuple[str, str], str] = {}
