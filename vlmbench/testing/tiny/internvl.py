"""The InternVL (transformers-native) family: an InternViT tower, pixel-shuffled tiles, a Qwen2 text model.

This is the layout of OpenGVLab's ``-hf`` repos (InternVL3-*-hf): the
``InternVLForConditionalGeneration`` model, ``InternVLProcessor`` with a
``GotOcr2ImageProcessor`` that cuts an image into tiles (plus a thumbnail)
and writes ``<img>`` + one ``<IMG_CONTEXT>`` per tile token + ``</img>``
for each image.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vlmbench.testing.tiny.common import CONTENT_MACRO, INIT_RANGE, TEXT, TinyFamily
from vlmbench.testing.tiny.qwen import add_video_processor

# The -hf repos' template: ChatML, each image an "<IMG_CONTEXT>" line (the processor expands it), no default
# system prompt.
_INTERNVL_TEMPLATE = CONTENT_MACRO + (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{{ content(message, '<IMG_CONTEXT>\n') }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

_INTERNVL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<img>", "</img>", "<IMG_CONTEXT>",
                    "<quad>", "</quad>", "<ref>", "</ref>", "<box>", "</box>", "<video>"]
# The -hf tokenizers name the image tokens as extra special tokens, which InternVLProcessor reads.
_INTERNVL_ROLES = {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
                   "context_image_token": "<IMG_CONTEXT>", "start_image_token": "<img>",
                   "end_image_token": "</img>", "video_token": "<video>"}

# 56-pixel tiles of 14-pixel patches (the hub's are 448 of 14): 4x4 patches, pixel-shuffled 2x2 into
# 4 tokens a tile.
_TILE, _PATCH, _TOKENS_PER_TILE = 56, 14, 4


def _internvl(tokenizer: Any, ids: dict[str, int]) -> tuple[Any, Any]:
    import transformers as tf

    from vlmbench.models.hf.processors import image_only_processor

    # InternViT-300M's structure (layer norm, no q/k norm, layer scale, mean pooling) at tiny sizes.
    vision = tf.InternVLVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                     num_attention_heads=4, image_size=[_TILE, _TILE],
                                     patch_size=[_PATCH, _PATCH], norm_type="layer_norm", use_qk_norm=False,
                                     initializer_range=INIT_RANGE)
    text = tf.Qwen2Config(vocab_size=len(tokenizer), bos_token_id=ids["<|endoftext|>"],
                          eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"], **TEXT)
    config = tf.InternVLConfig(vision_config=vision, text_config=text, image_token_id=ids["<IMG_CONTEXT>"],
                               image_seq_length=_TOKENS_PER_TILE, downsample_ratio=0.5,
                               vision_feature_layer=-1, vision_feature_select_strategy="default")
    # Up to 4 tiles and a thumbnail per image, as the hub's up to 12 and a thumbnail; ImageNet normalisation.
    images = tf.GotOcr2ImageProcessorPil(size={"height": _TILE, "width": _TILE}, crop_to_patches=True,
                                         min_patches=1, max_patches=4, image_mean=[0.485, 0.456, 0.406],
                                         image_std=[0.229, 0.224, 0.225])
    # The full processor also wants a video processor, which needs torchvision; images are all we use.
    processor_cls = image_only_processor(tf.InternVLProcessor)
    processor = processor_cls(images, tokenizer, image_seq_length=_TOKENS_PER_TILE,
                              chat_template=_INTERNVL_TEMPLATE)
    return tf.InternVLForConditionalGeneration(config), processor


def _add_video_processor(target: Path) -> None:
    # vLLM builds the full InternVLProcessor, which refuses a folder without a video processor entry.
    add_video_processor(target, "InternVLVideoProcessor")


FAMILIES: dict[str, TinyFamily] = {
    # The catalog's vLLM InternVL3 row loads the -hf repo too: vLLM 0.32 runs this layout
    # (InternVLForConditionalGeneration, through its InternS1 implementation) without the hub's code.
    "internvl": TinyFamily(_INTERNVL_TOKENS, _INTERNVL_ROLES, _internvl,
                           stands_for={"hf": ("InternVL3",), "vllm": ("InternVL3",)},
                           placeholder="<IMG_CONTEXT>", finish=_add_video_processor),
}

# (framework, catalog model_family) -> why no tiny model here checks those rows.
# The catalog's InternVL2 and 2.5 rows have no -hf repos: they load OpenGVLab's original layout.
_REMOTE_CODE = ("the row's checkpoint is OpenGVLab's remote-code layout (InternVLChatModel, model_type "
                "internvl_chat, vision_model./mlp1./language_model. weights) whose config{} is the hub's "
                "Python code (trust_remote_code); the tiny model has the transformers-native -hf layout")
NOT_CHECKED: dict[tuple[str, str], str] = {
    ("vllm", "InternVL2"): _REMOTE_CODE.format(" and InternLM2 tokenizer"),
    ("vllm", "InternVL2.5"): _REMOTE_CODE.format(" (and, for the InternLM2-based 8B and 26B, tokenizer)"),
}
