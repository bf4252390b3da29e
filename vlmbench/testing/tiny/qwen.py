"""The Qwen-VL families, Qwen2-VL to Qwen3-VL: native-resolution vision, multimodal rotary positions."""

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


Configs = tuple[dict[str, Any], dict[str, Any], dict[str, Any]]


def _qwen3_vl_parts(tokenizer: Any, ids: dict[str, int]) -> Configs:
    """The text config, vision config and top-level token ids Qwen3-VL and its MoE variant share."""
    # The hub's layout at tiny sizes: q/k-normed text attention with an explicit head_dim, interleaved
    # multimodal rotary sections (the hub's [24, 20, 20] of a 64-wide half head, here of 16).
    rope = {"rope_type": "default", "rope_theta": 5000000.0, "mrope_section": [6, 5, 5],
            "mrope_interleaved": True}
    text = {**TEXT, "head_dim": 32, "vocab_size": len(tokenizer), "bos_token_id": ids["<|endoftext|>"],
            "eos_token_id": ids["<|im_end|>"], "pad_token_id": ids["<|endoftext|>"], "rope_parameters": rope,
            "tie_word_embeddings": False}
    # 16-pixel patches merged 2x2 as on the hub; a learned 8x8 position grid (the hub's is 48x48), and
    # deepstack features taken from the first of two layers (the hub's from layers 8, 16, 24 of 27).
    vision = {"depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 4, "out_hidden_size": 64,
              "patch_size": 16, "spatial_merge_size": 2, "temporal_patch_size": 2,
              "num_position_embeddings": 64, "deepstack_visual_indexes": [0],
              "hidden_act": "gelu_pytorch_tanh", "initializer_range": INIT_RANGE}
    tokens = {"image_token_id": ids["<|image_pad|>"], "video_token_id": ids["<|video_pad|>"],
              "vision_start_token_id": ids["<|vision_start|>"], "vision_end_token_id": ids["<|vision_end|>"]}
    return text, vision, tokens


def _qwen3_vl_processor(tokenizer: Any) -> Any:
    import transformers as tf

    from vlmbench.models.hf.processors import image_only_processor

    # Between 2x2 and 4x4 merged patches of 32 pixels: 4 to 16 image tokens per image; the hub's
    # normalisation (0.5 mean and deviation, not CLIP's).
    images = tf.Qwen2VLImageProcessorPil(size={"shortest_edge": 64 * 64, "longest_edge": 128 * 128},
                                         patch_size=16, temporal_patch_size=2, merge_size=2,
                                         image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5])
    return image_only_processor(tf.Qwen3VLProcessor)(images, tokenizer, chat_template=_QWEN_TEMPLATE)


def _qwen3_vl(tokenizer: Any, ids: dict[str, int]) -> tuple[Any, Any]:
    import transformers as tf

    text, vision, tokens = _qwen3_vl_parts(tokenizer, ids)
    config = tf.Qwen3VLConfig(text_config=text, vision_config=vision, tie_word_embeddings=False, **tokens)
    return tf.Qwen3VLForConditionalGeneration(config), _qwen3_vl_processor(tokenizer)


def _qwen3_vl_moe(tokenizer: Any, ids: dict[str, int]) -> tuple[Any, Any]:
    import transformers as tf

    text, vision, tokens = _qwen3_vl_parts(tokenizer, ids)
    # Qwen3-VL-30B-A3B's sparse text model (8 of 128 experts in every layer) as 2 of 4 experts; 48 wide, so
    # no expert matrix is square and a transposed one cannot pass for the hub's fused expert layout.
    # norm_topk_prob as the hub writes it: transformers always renormalises the chosen experts, vLLM reads it.
    text |= {"num_experts": 4, "num_experts_per_tok": 2, "moe_intermediate_size": 48,
             "decoder_sparse_step": 1, "mlp_only_layers": [], "norm_topk_prob": True}
    config = tf.Qwen3VLMoeConfig(text_config=text, vision_config=vision, tie_word_embeddings=False, **tokens)
    return tf.Qwen3VLMoeForConditionalGeneration(config), _qwen3_vl_processor(tokenizer)


def _add_qwen3_video_processor(target: Path) -> None:
    add_video_processor(target, "Qwen3VLVideoProcessor")


def _finish_qwen3_vl_moe(target: Path) -> None:
    """Store the fused experts as the hub's Qwen3-VL-MoE checkpoints do, then add the video processor.

    transformers 5 saves them as it computes, (experts, out, in); the hub's
    checkpoints hold (experts, in, out), which transformers 5 transposes
    on loading and vLLM reads as it is (``is_fused_checkpoint_transposed``).
    """
    from safetensors.torch import load_file, save_file

    path = target / "model.safetensors"
    tensors = load_file(path)
    fused = (".mlp.experts.gate_up_proj", ".mlp.experts.down_proj")
    hub = {name: tensor.transpose(1, 2).contiguous() if name.endswith(fused) else tensor
           for name, tensor in tensors.items()}
    save_file(hub, path, metadata={"format": "pt"})
    _add_qwen3_video_processor(target)


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
    "qwen3_vl": TinyFamily(_QWEN_TOKENS, _QWEN_ROLES, _qwen3_vl,
                           stands_for={"hf": ("Qwen3-VL",), "vllm": ("Qwen3-VL",)},
                           placeholder="<|image_pad|>", finish=_add_qwen3_video_processor),
    # Not "vllm": the catalog's vLLM Qwen3-VL row is the dense 8B (vLLM answers this one as transformers too).
    "qwen3_vl_moe": TinyFamily(_QWEN_TOKENS, _QWEN_ROLES, _qwen3_vl_moe, stands_for={"hf": ("Qwen3-VL",)},
                               placeholder="<|image_pad|>", finish=_finish_qwen3_vl_moe),
}

# (framework, catalog model_family) -> why no tiny model here checks those rows.
NOT_CHECKED: dict[tuple[str, str], str] = {}
