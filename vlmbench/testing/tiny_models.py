"""Tiny random vision-language models of real architectures, built locally in seconds.

Each builder writes a folder that ``from_pretrained`` loads like a hub
checkpoint: the model's real config and weights (random, a few hundred
kilobytes), a byte-level BPE tokenizer trained here on a small corpus with
the special tokens the family's processor needs, the family's image
processor, and a chat template in the family's format. The answers are
nonsense, but every step a real checkpoint goes through — processor, chat
template, image placeholders, vision tower, left-padded batched generation
— runs for real. Tests, benchmarks and image checks use them where no
model hub can be reached::

    from vlmbench.testing import build_tiny_model
    folder = build_tiny_model("qwen2_vl", tmp_path / "qwen2-vl")

The builders need ``torch``, ``transformers`` and ``tokenizers``; nothing is
downloaded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TINY_ARCHS: tuple[str, ...] = ("llava", "idefics3", "qwen2_vl", "qwen2_5_vl")

VOCAB_SIZE = 700
# Wider than the usual 0.02 so that logits differ clearly between tokens: greedy
# answers then depend on the input, and float noise cannot flip an argmax.
INIT_RANGE = 0.2
# Two heads of 32: vLLM's CPU attention kernels take head sizes of 32, 64, 80 and up, not 16,
# and one key/value head for the two query heads keeps grouped-query attention in play.
TEXT = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 2,
        "num_key_value_heads": 1, "max_position_embeddings": 1024, "initializer_range": INIT_RANGE}

_SENTENCES = (
    "What is written in the image? Read the text and answer with one word.",
    "Invoice number 1042, date 2024-03-15, seller Acme Ltd, buyer John Smith, total 1 250.00 USD.",
    "The quick brown fox jumps over the lazy dog; a red circle, a blue square, a green triangle.",
    "Счёт-фактура № 7, дата 15.03.2024, продавец ООО Ромашка, покупатель Иванов, итого 980,50 руб.",
    "Паспорт: фамилия, имя, отчество, дата рождения, место рождения, номер документа.",
    "Which shape is in the picture? How many objects are there? Yes or no: is it blue?",
    "Receipt: coffee 3.50, bread 2.10, milk 1.20; cash, change, thank you for shopping.",
)

# The templates are single lines, so they need no whitespace control: every
# newline in them is one the family's format has. A macro renders a message's
# content, a string or typed parts, with each image part as the family's placeholder.
_CONTENT_MACRO = (
    "{% macro content(message, image) %}"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}{{ image }}"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}"
    "{% endmacro %}"
)

# LLaVA 1.5: "USER: <image>\nquestion ASSISTANT: answer</s>", a system prompt as a first line.
_LLAVA_TEMPLATE = _CONTENT_MACRO + (
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ content(message, '') }}\n"
    "{% elif message['role'] == 'user' %}USER: {{ content(message, '<image>\n') }} "
    "{% else %}ASSISTANT: {{ content(message, '') }}</s>{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}ASSISTANT:{% endif %}"
)

# Idefics3 / SmolVLM: "<|im_start|>User:<image>question<end_of_utterance>\nAssistant:".
_IDEFICS3_TEMPLATE = _CONTENT_MACRO + (
    "<|im_start|>"
    "{% for message in messages %}"
    "{{ message['role'] | capitalize }}:{{ content(message, '<image>') }}<end_of_utterance>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}Assistant:{% endif %}"
)

# Qwen2-VL and Qwen2.5-VL: ChatML with each image wrapped in vision markers.
_QWEN_TEMPLATE = _CONTENT_MACRO + (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{{ content(message, '<|vision_start|><|image_pad|><|vision_end|>') }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

_QWEN_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
                "<|image_pad|>", "<|video_pad|>"]
_TILE_TAGS = [f"<row_{row}_col_{col}>" for row in range(1, 7) for col in range(1, 7)]
_IDEFICS3_TOKENS = ["<|endoftext|>", "<|im_start|>", "<end_of_utterance>", "<fake_token_around_image>",
                    "<image>", "<global-img>", *_TILE_TAGS]

Builder = Callable[[Any, dict[str, int]], tuple[Any, Any]]  # (tokenizer, token ids) -> (model, processor)


@dataclass(frozen=True)
class _Family:
    special_tokens: list[str]
    roles: dict[str, str]  # tokenizer attribute (eos_token, image_token, ...) -> token
    build: Builder
    bos: str | None = None  # prepended to every encoded text, as Llama tokenizers do
    finish: Callable[[Path], None] | None = None  # edits the saved folder


def train_tokenizer(special_tokens: list[str], bos: str | None = None, vocab_size: int = VOCAB_SIZE) -> Any:
    """A byte-level BPE `tokenizers.Tokenizer` trained on a small English and Russian corpus."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=special_tokens, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(list(_SENTENCES) * 20, trainer)
    if bos:
        tokenizer.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, tokenizer.token_to_id(bos))])
    return tokenizer


def _llava(tokenizer: Any, ids: dict[str, int]) -> tuple[Any, Any]:
    import transformers as tf

    # 28-pixel images of 14-pixel patches: 4 image tokens (the "default" strategy drops the CLS token).
    vision = tf.CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                 num_attention_heads=4, image_size=28, patch_size=14,
                                 initializer_range=INIT_RANGE)
    text = tf.LlamaConfig(vocab_size=len(tokenizer), bos_token_id=ids["<s>"], eos_token_id=ids["</s>"],
                          pad_token_id=ids["<pad>"], **TEXT)
    config = tf.LlavaConfig(vision_config=vision, text_config=text, image_token_index=ids["<image>"],
                            image_seq_length=4, vision_feature_select_strategy="default",
                            vision_feature_layer=-2)
    images = tf.CLIPImageProcessorPil(size={"shortest_edge": 28}, crop_size={"height": 28, "width": 28})
    processor = tf.LlavaProcessor(images, tokenizer, patch_size=14, vision_feature_select_strategy="default",
                                  num_additional_image_tokens=1, chat_template=_LLAVA_TEMPLATE)
    return tf.LlavaForConditionalGeneration(config), processor


def _idefics3(tokenizer: Any, ids: dict[str, int]) -> tuple[Any, Any]:
    import transformers as tf

    # 32-pixel tiles of 8-pixel patches merged 2x2: 4 image tokens per tile, up to 2x2 tiles and a global one.
    vision = tf.Idefics3VisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                     num_attention_heads=4, image_size=32, patch_size=8,
                                     initializer_range=INIT_RANGE)
    text = tf.LlamaConfig(vocab_size=len(tokenizer), bos_token_id=ids["<|im_start|>"],
                          eos_token_id=ids["<end_of_utterance>"], pad_token_id=ids["<|endoftext|>"], **TEXT)
    config = tf.Idefics3Config(vision_config=vision, text_config=text, image_token_id=ids["<image>"],
                               scale_factor=2, pad_token_id=ids["<|endoftext|>"])
    images = tf.Idefics3ImageProcessorPil(size={"longest_edge": 64}, max_image_size={"longest_edge": 32})
    processor = tf.Idefics3Processor(images, tokenizer, image_seq_len=4, chat_template=_IDEFICS3_TEMPLATE)
    return tf.Idefics3ForConditionalGeneration(config), processor


def _qwen(tokenizer: Any, ids: dict[str, int], version: str, vision: dict[str, Any]) -> tuple[Any, Any]:
    import transformers as tf

    from vlmbench.models.hf.processors import image_only_processor

    model_cls = getattr(tf, f"{version}ForConditionalGeneration")
    # head_dim 32: the multimodal rotary sections (time, height, width) must add up to 16.
    rope = {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [4, 6, 6]}
    text = {**TEXT, "vocab_size": len(tokenizer), "bos_token_id": ids["<|endoftext|>"],
            "eos_token_id": ids["<|im_end|>"], "pad_token_id": ids["<|endoftext|>"], "rope_parameters": rope}
    config = getattr(tf, f"{version}Config")(
        text_config=text, vision_config={**vision, "initializer_range": INIT_RANGE},
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"])
    # Between 2x2 and 4x4 merged patches of 28 pixels: 4 to 16 image tokens per image.
    images = tf.Qwen2VLImageProcessorPil(size={"shortest_edge": 56 * 56, "longest_edge": 112 * 112})
    # The full processor also wants a video processor, which needs torchvision; images are all we use
    # (_add_video_processor writes its entry for loaders that build the full one).
    processor_cls = image_only_processor(getattr(tf, f"{version}Processor"))
    return model_cls(config), processor_cls(images, tokenizer, chat_template=_QWEN_TEMPLATE)


def _qwen2_vl(tokenizer: Any, ids: dict[str, int]) -> tuple[Any, Any]:
    return _qwen(tokenizer, ids, "Qwen2VL", {"depth": 1, "embed_dim": 32, "hidden_size": 64, "num_heads": 4})


def _qwen2_5_vl(tokenizer: Any, ids: dict[str, int]) -> tuple[Any, Any]:
    vision = {"depth": 2, "hidden_size": 32, "intermediate_size": 64, "out_hidden_size": 64, "num_heads": 4,
              "window_size": 56, "fullatt_block_indexes": [1]}
    return _qwen(tokenizer, ids, "Qwen2_5_VL", vision)


def _add_video_processor(target: Path) -> None:
    """Give a saved Qwen folder's processor_config.json the video processor entry hub folders have.

    The image-only processor saves none, and building the video processor
    here would need torchvision; vLLM builds the full processor and refuses
    a folder without one. It takes the image processor's sizes and
    normalisation: no video is ever sent.
    """
    path = target / "processor_config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    images = config["image_processor"]
    shared = ("size", "patch_size", "temporal_patch_size", "merge_size", "image_mean", "image_std")
    config["video_processor"] = {"video_processor_type": "Qwen2VLVideoProcessor",
                                 **{key: images[key] for key in shared}}
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


# Roles every tokenizer knows; the others become named extra special tokens (tokenizer.image_token, ...).
_TOKENIZER_ROLES = ("bos_token", "eos_token", "pad_token", "unk_token")
_QWEN_ROLES = {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "image_token": "<|image_pad|>",
               "video_token": "<|video_pad|>", "vision_bos_token": "<|vision_start|>",
               "vision_eos_token": "<|vision_end|>"}
_LLAVA_ROLES = {"unk_token": "<unk>", "bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>",
                "image_token": "<image>"}
_IDEFICS3_ROLES = {"bos_token": "<|im_start|>", "eos_token": "<end_of_utterance>",
                   "pad_token": "<|endoftext|>", "image_token": "<image>"}

_FAMILIES: dict[str, _Family] = {
    "llava": _Family(["<unk>", "<s>", "</s>", "<pad>", "<image>"], _LLAVA_ROLES, _llava, bos="<s>"),
    "idefics3": _Family(_IDEFICS3_TOKENS, _IDEFICS3_ROLES, _idefics3),
    "qwen2_vl": _Family(_QWEN_TOKENS, _QWEN_ROLES, _qwen2_vl, finish=_add_video_processor),
    "qwen2_5_vl": _Family(_QWEN_TOKENS, _QWEN_ROLES, _qwen2_5_vl, finish=_add_video_processor),
}


def build_tiny_model(arch: str, target: Path, seed: int = 0) -> Path:
    """Write a tiny random `arch` model with its tokenizer and processor to `target`; returns `target`.

    The same `arch` and `seed` give the same weights and tokenizer, so a
    folder can be rebuilt anywhere and answers the same.
    """
    if arch not in _FAMILIES:
        raise ValueError(f"unknown tiny architecture {arch!r}; choose one of {', '.join(TINY_ARCHS)}")
    import torch
    from transformers import TokenizersBackend

    from vlmbench.models.hf.hub_layout import to_hub_weight_names

    family = _FAMILIES[arch]
    roles = {role: token for role, token in family.roles.items() if role in _TOKENIZER_ROLES}
    extra = {role: token for role, token in family.roles.items() if role not in roles}
    tokenizer = TokenizersBackend(tokenizer_object=train_tokenizer(family.special_tokens, family.bos),
                                  extra_special_tokens=extra, **roles)
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in family.special_tokens}
    torch.manual_seed(seed)
    model, processor = family.build(tokenizer, ids)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(target)
    processor.save_pretrained(target)
    to_hub_weight_names(target)  # what vLLM reads, as real checkpoints
    if family.finish:
        family.finish(target)
    marker = json.dumps({"arch": arch, "seed": seed}) + "\n"
    (target / "vlmbench-tiny.json").write_text(marker, encoding="utf-8")
    return target
