"""The LLaVA-style families: a vision tower, a projector and a language model.

LLaVA 1.5 (CLIP + Llama), LLaVA-NeXT (CLIP tiles at any resolution + Mistral),
LLaVA-OneVision (SigLIP tiles + Qwen2), Aya Vision (SigLIP tiles, pixel-shuffled, + Cohere2),
Pixtral (a Pixtral tower in a LLaVA config + Mistral) and Mistral 3 (the same, patches merged 2x2).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vlmbench.testing.tiny.common import CONTENT_MACRO, INIT_RANGE, TEXT, TinyFamily

# LLaVA 1.5: "USER: <image>\nquestion ASSISTANT: answer</s>", a system prompt as a first line.
_LLAVA_TEMPLATE = CONTENT_MACRO + (
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ content(message, '') }}\n"
    "{% elif message['role'] == 'user' %}USER: {{ content(message, '<image>\n') }} "
    "{% else %}ASSISTANT: {{ content(message, '') }}</s>{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}ASSISTANT:{% endif %}"
)

_LLAVA_ROLES = {"unk_token": "<unk>", "bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>",
                "image_token": "<image>"}


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


# LLaVA-NeXT as llava-v1.6-mistral-7b-hf renders it: "<s>[INST] <image>\nquestion [/INST]", a system
# prompt in a <<SYS>> block before it, each answer " answer</s> "; no generation prompt of its own.
_LLAVA_NEXT_TEMPLATE = CONTENT_MACRO + (
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}<<SYS>>\n{{ content(message, '') }}\n<</SYS>>\n\n"
    "{% elif message['role'] == 'user' %}[INST] {{ content(message, '<image>\n') }} [/INST]"
    "{% else %} {{ content(message, '') }}</s> {% endif %}"
    "{% endfor %}"
)


def _clip(image_size: int) -> Any:
    import transformers as tf

    return tf.CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                               image_size=image_size, patch_size=14, initializer_range=INIT_RANGE)


def _llava_next(tokenizer: Any, ids: dict[str, int]) -> tuple[Any, Any]:
    import transformers as tf

    # 28-pixel tiles of 2x2 patches; an image is a resized base tile plus one to four tiles of the
    # best-fitting grid, the padding cut off again and a newline token per row (any-resolution).
    grid = [[28, 56], [56, 28], [56, 56]]
    text = tf.MistralConfig(vocab_size=len(tokenizer), bos_token_id=ids["<s>"], eos_token_id=ids["</s>"],
                            pad_token_id=ids["<pad>"], **TEXT)
    config = tf.LlavaNextConfig(vision_config=_clip(28), text_config=text, image_token_index=ids["<image>"],
                                image_grid_pinpoints=grid, image_seq_length=4,
                                vision_feature_select_strategy="default", vision_feature_layer=-2)
    images = tf.LlavaNextImageProcessorPil(size={"shortest_edge": 28}, crop_size={"height": 28, "width": 28},
                                           image_grid_pinpoints=grid)
    processor = tf.LlavaNextProcessor(images, tokenizer, patch_size=14, vision_feature_select_strategy="default",
                                      num_additional_image_tokens=1, chat_template=_LLAVA_NEXT_TEMPLATE)
    return tf.LlavaNextForConditionalGeneration(config), processor


# LLaVA-OneVision (llava-hf's -ov-hf checkpoints): ChatML, each image "<image>\n" before the text.
_ONEVISION_TEMPLATE = CONTENT_MACRO + (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n{{ content(message, '<image>\n') }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
_ONEVISION_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<image>", "<video>"]
_ONEVISION_ROLES = {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "image_token": "<image>",
                    "video_token": "<video>"}


def _llava_onevision(tokenizer: Any, ids: dict[str, int]) -> tuple[Any, Any]:
    import transformers as tf

    from vlmbench.models.hf.processors import image_only_processor

    # 28-pixel SigLIP tiles of 2x2 patches, all kept ("full"); grids up to 2x2 tiles as any-resolution.
    grid = [[28, 28], [28, 56], [56, 28], [56, 56]]
    vision = tf.SiglipVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                   num_attention_heads=4, image_size=28, patch_size=14, vision_use_head=False,
                                   initializer_range=INIT_RANGE)
    text = tf.Qwen2Config(vocab_size=len(tokenizer), bos_token_id=ids["<|endoftext|>"],
                          eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"], **TEXT)
    config = tf.LlavaOnevisionConfig(vision_config=vision, text_config=text, image_token_index=ids["<image>"],
                                     video_token_index=ids["<video>"], image_grid_pinpoints=grid,
                                     vision_feature_select_strategy="full", vision_feature_layer=-1,
                                     vision_aspect_ratio="anyres_max_9")
    images = tf.LlavaOnevisionImageProcessorPil(size={"height": 28, "width": 28}, image_grid_pinpoints=grid,
                                                image_mean=[0.5] * 3, image_std=[0.5] * 3)
    # The full processor also wants a video processor, which needs torchvision; images are all we use.
    processor = image_only_processor(tf.LlavaOnevisionProcessor)(
        images, tokenizer, num_image_tokens=4, vision_feature_select_strategy="full",
        vision_aspect_ratio="anyres_max_9", chat_template=_ONEVISION_TEMPLATE)
    return tf.LlavaOnevisionForConditionalGeneration(config), processor


# Aya Vision (CohereLabs/aya-vision-8b): Command R turns, the template writes <BOS_TOKEN> itself and
# the images as <image> where the content has them; no default system turn.
_AYA_TEMPLATE = CONTENT_MACRO + (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "<|START_OF_TURN_TOKEN|>"
    "{% if message['role'] == 'system' %}<|SYSTEM_TOKEN|>{% elif message['role'] == 'user' %}<|USER_TOKEN|>"
    "{% else %}<|CHATBOT_TOKEN|>{% endif %}"
    "{{ content(message, '<image>') }}<|END_OF_TURN_TOKEN|>"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>{% endif %}"
)
_AYA_TOKENS = ["<PAD>", "<BOS_TOKEN>", "<|END_OF_TURN_TOKEN|>", "<|START_OF_TURN_TOKEN|>", "<|SYSTEM_TOKEN|>",
               "<|USER_TOKEN|>", "<|CHATBOT_TOKEN|>", "<image>", "<|START_OF_IMG|>", "<|END_OF_IMG|>",
               "<|IMG_PATCH|>", "<|IMG_LINE_BREAK|>", "TILE", "TILE_GLOBAL"]
_AYA_ROLES = {"bos_token": "<BOS_TOKEN>", "eos_token": "<|END_OF_TURN_TOKEN|>", "pad_token": "<PAD>",
              "image_token": "<image>"}


def _aya_vision(tokenizer: Any, ids: dict[str, int]) -> tuple[Any, Any]:
    import transformers as tf

    # 56-pixel SigLIP tiles of 4x4 patches, shuffled 2x2 into 4 tokens; up to 4 tiles and a global one.
    vision = tf.SiglipVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                   num_attention_heads=4, image_size=56, patch_size=14, vision_use_head=False,
                                   initializer_range=INIT_RANGE)
    text = tf.Cohere2Config(vocab_size=len(tokenizer), bos_token_id=ids["<BOS_TOKEN>"],
                            eos_token_id=ids["<|END_OF_TURN_TOKEN|>"], pad_token_id=ids["<PAD>"],
                            sliding_window=64, **TEXT)
    config = tf.AyaVisionConfig(vision_config=vision, text_config=text, image_token_index=ids["<|IMG_PATCH|>"],
                                downsample_factor=2, vision_feature_select_strategy="full",
                                vision_feature_layer=-1)
    config.alignment_intermediate_size = 128  # the hub configs set it; SwiGLU halves it
    images = tf.GotOcr2ImageProcessorPil(size={"height": 56, "width": 56}, crop_to_patches=True, min_patches=1,
                                         max_patches=4, image_mean=[0.5] * 3, image_std=[0.5] * 3)
    processor = tf.AyaVisionProcessor(images, tokenizer, patch_size=28, img_size=56, downsample_factor=1,
                                      chat_template=_AYA_TEMPLATE)
    return tf.AyaVisionForConditionalGeneration(config), processor


# Pixtral (mistral-community/pixtral-12b): "<s>[INST][IMG]question[/INST]", a system prompt at the top of
# the last user turn, an answer then </s>.
_PIXTRAL_TEMPLATE = CONTENT_MACRO + (
    "{{ bos_token }}"
    "{% set system = messages | selectattr('role', 'equalto', 'system') | list %}"
    "{% for message in messages if message['role'] != 'system' %}"
    "{% if message['role'] == 'user' %}[INST]"
    "{% if loop.last and system %}{{ content(system[0], '') }}\n\n{% endif %}"
    "{{ content(message, '[IMG]') }}[/INST]"
    "{% else %}{{ content(message, '') }}</s>{% endif %}"
    "{% endfor %}"
)
# Mistral Small 3.1: "<s>[SYSTEM_PROMPT]...[/SYSTEM_PROMPT][INST][IMG]question[/INST]". The hub's default
# system prompt holds today's date; a fixed one keeps the answers repeatable.
_MISTRAL3_TEMPLATE = CONTENT_MACRO + (
    "{{ bos_token }}"
    "{% if messages[0]['role'] != 'system' %}[SYSTEM_PROMPT]You are Mistral Small 3.1.[/SYSTEM_PROMPT]{% endif %}"
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}[SYSTEM_PROMPT]{{ content(message, '') }}[/SYSTEM_PROMPT]"
    "{% elif message['role'] == 'user' %}[INST]{{ content(message, '[IMG]') }}[/INST]"
    "{% else %}{{ content(message, '') }}</s>{% endif %}"
    "{% endfor %}"
)
_MISTRAL_TOKENS = ["<unk>", "<s>", "</s>", "<pad>", "[INST]", "[/INST]", "[IMG]", "[IMG_BREAK]", "[IMG_END]",
                   "[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]"]
_MISTRAL_ROLES = {"unk_token": "<unk>", "bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>",
                  "image_token": "[IMG]"}


@dataclass(frozen=True)
class _PixtralProcessorFiles:
    """Writes the files `PixtralProcessor.save_pretrained` writes, without making a PixtralProcessor.

    transformers 5 imports PixtralProcessor only beside torchvision (for one size helper), which the
    project's venv lacks; the folder is the same either way, and loading it back needs torchvision.
    """

    images: Any  # the image processor
    tokenizer: Any
    patch_size: int
    spatial_merge_size: int
    chat_template: str

    def save_pretrained(self, target: str | Path) -> None:
        target = Path(target)
        target.mkdir(parents=True, exist_ok=True)
        self.tokenizer._set_processor_class("PixtralProcessor")  # what the processor writes in tokenizer_config
        self.tokenizer.save_pretrained(target)
        (target / "chat_template.jinja").write_text(self.chat_template, encoding="utf-8")
        config = {"image_processor": self.images.to_dict(), "patch_size": self.patch_size,
                  "spatial_merge_size": self.spatial_merge_size, "image_token": "[IMG]",
                  "image_break_token": "[IMG_BREAK]", "image_end_token": "[IMG_END]",
                  "processor_class": "PixtralProcessor"}
        text = json.dumps(config, indent=2, sort_keys=True) + "\n"
        (target / "processor_config.json").write_text(text, encoding="utf-8")


def _pixtral_parts(tokenizer: Any, ids: dict[str, int], merge: int) -> tuple[Any, Any, Any]:
    """The Pixtral tower, a Mistral text model and a PixtralProcessor's files: `merge` x `merge` patches a token."""
    import transformers as tf

    # 14-pixel patches of images resized to at most 56 pixels a side: up to 4x4 patches per image.
    vision = tf.PixtralVisionConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                    num_attention_heads=2, image_size=56, patch_size=14,
                                    initializer_range=INIT_RANGE)
    text = tf.MistralConfig(vocab_size=len(tokenizer), bos_token_id=ids["<s>"], eos_token_id=ids["</s>"],
                            pad_token_id=ids["<pad>"], **TEXT)
    images = tf.PixtralImageProcessorPil(size={"longest_edge": 56}, patch_size={"height": 14, "width": 14})
    template = _MISTRAL3_TEMPLATE if merge > 1 else _PIXTRAL_TEMPLATE
    processor = _PixtralProcessorFiles(images, tokenizer, patch_size=14, spatial_merge_size=merge,
                                       chat_template=template)
    return vision, text, processor


def _pixtral(tokenizer: Any, ids: dict[str, int]) -> tuple[Any, Any]:
    import transformers as tf

    vision, text, processor = _pixtral_parts(tokenizer, ids, merge=1)
    config = tf.LlavaConfig(vision_config=vision, text_config=text, image_token_index=ids["[IMG]"],
                            vision_feature_select_strategy="full", vision_feature_layer=-1)
    return tf.LlavaForConditionalGeneration(config), processor


def _mistral3(tokenizer: Any, ids: dict[str, int]) -> tuple[Any, Any]:
    import transformers as tf

    vision, text, processor = _pixtral_parts(tokenizer, ids, merge=2)
    config = tf.Mistral3Config(vision_config=vision, text_config=text, image_token_index=ids["[IMG]"],
                               spatial_merge_size=2, vision_feature_layer=-1, tie_word_embeddings=False)
    return tf.Mistral3ForConditionalGeneration(config), processor


FAMILIES: dict[str, TinyFamily] = {
    "llava": TinyFamily(["<unk>", "<s>", "</s>", "<pad>", "<image>"], _LLAVA_ROLES, _llava,
                        stands_for={"hf": ("LLaVA-1.5",)}, placeholder="<image>", bos="<s>"),
    "llava_next": TinyFamily(["<unk>", "<s>", "</s>", "<pad>", "<image>"], _LLAVA_ROLES, _llava_next,
                             stands_for={"hf": ("LLaVA-NeXT",)}, placeholder="<image>", bos="<s>"),
    "llava_onevision": TinyFamily(_ONEVISION_TOKENS, _ONEVISION_ROLES, _llava_onevision,
                                  stands_for={"hf": ("LLaVA-OneVision",)}, placeholder="<image>"),
    "aya_vision": TinyFamily(_AYA_TOKENS, _AYA_ROLES, _aya_vision, stands_for={"hf": ("Aya-Vision",)},
                             placeholder="<image>"),
    # transformers 5 loads PixtralProcessor back only beside torchvision; building needs none.
    "pixtral": TinyFamily(_MISTRAL_TOKENS, _MISTRAL_ROLES, _pixtral, stands_for={"hf": ("Pixtral",)},
                          placeholder="[IMG]", model_type="llava", needs=("torchvision",)),
    "mistral3": TinyFamily(_MISTRAL_TOKENS, _MISTRAL_ROLES, _mistral3, stands_for={"hf": ("Mistral-Small-3.1",)},
                           placeholder="[IMG]", needs=("torchvision",)),
}

# (framework, catalog model_family) -> why no tiny model here checks those rows.
NOT_CHECKED: dict[tuple[str, str], str] = {
    ("vllm", "Pixtral"): "the row's mistralai/Pixtral-12B-2409 is Mistral's own consolidated layout "
                         "(params.json, tekken.json, tokenizer_mode mistral); vLLM 0.32 CPU answers the tiny "
                         "pixtral's transformers layout as transformers does, but that is not the row's layout",
}

