"""The Qwen-VL families: Qwen2-VL and Qwen2.5-VL (a native-resolution vision tower, multimodal rotary positions)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vlmbench.testing.tiny.common import CONTENT_MACRO, INIT_RANGE, TEXT, TinyFamily

# Qwen2-VL and Qwen2.5-VL: ChatML with each image wrapped in vision markers.
_QWEN_TEMPLATE = CONTENT_MACRO + (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{{ content(message, '<|vision_start|><|image_pad|><|vision_end|>') }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

_QWEN_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
                "<|image_pad|>", "<|video_pad|>"]
_QWEN_ROLES = {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "image_token": "<|image_pad|>",
               "video_token": "<|video_pad|>", "vision_bos_token": "<|vision_start|>",
               "vision_eos_token": "<|vision_end|>"}


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
    # (add_video_processor writes its entry for loaders that build the full one).
    processor_cls = image_only_processor(getattr(tf, f"{version}Processor"))
    return model_cls(config), processor_cls(images, tokenizer, chat_template=_QWEN_TEMPLATE)


def _qwen2_vl(tokenizer: Any, ids: dict[str, int]) -> tuple[Any, Any]:
    return _qwen(tokenizer, ids, "Qwen2VL", {"depth": 1, "embed_dim": 32, "hidden_size": 64, "num_heads": 4})


def _qwen2_5_vl(tokenizer: Any, ids: dict[str, int]) -> tuple[Any, Any]:
    vision = {"depth": 2, "hidden_size": 32, "intermediate_size": 64, "out_hidden_size": 64, "num_heads": 4,
              "window_size": 56, "fullatt_block_indexes": [1]}
    return _qwen(tokenizer, ids, "Qwen2_5_VL", vision)


def add_video_processor(target: Path, video_processor_type: str = "Qwen2VLVideoProcessor") -> None:
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
    config["video_processor"] = {"video_processor_type": video_processor_type,
                                 **{key: images[key] for key in shared if key in images}}
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


FAMILIES: dict[str, TinyFamily] = {
    "qwen2_vl": TinyFamily(_QWEN_TOKENS, _QWEN_ROLES, _qwen2_vl,
                           stands_for={"hf": ("Qwen2-VL",), "vllm": ("Qwen2-VL",)}, placeholder="<|image_pad|>", finish=add_video_processor),
    "qwen2_5_vl": TinyFamily(_QWEN_TOKENS, _QWEN_ROLES, _qwen2_5_vl,
                             stands_for={"hf": ("Qwen2.5-VL",), "vllm": ("Qwen2.5-VL",),
                                         "vllm-server": ("Qwen2.5-VL",)},
                             placeholder="<|image_pad|>", finish=add_video_processor),
}

# (framework, catalog model_family) -> why no tiny model here checks those rows.
NOT_CHECKED: dict[tuple[str, str], str] = {}
