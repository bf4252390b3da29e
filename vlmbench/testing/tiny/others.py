"""Families the catalog runs only through vLLM, whose checkpoints vLLM reads with its own code.

transformers has no classes for these hub layouts (their checkpoints carry
remote code), so a builder here writes the folder by hand: config.json as
the hub's has it, random weights under the hub's names, and the processor
files vLLM reads. Only vLLM can run them: ``hf=False``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vlmbench.testing.tiny.common import CONTENT_MACRO, INIT_RANGE, TEXT, TinyFamily

_CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
_CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


class HandWrittenCheckpoint:
    """What `build_tiny_model` saves, for a layout transformers has no model class for.

    It gives the two things the builder uses of a model: a generation config
    and ``save_pretrained``, which writes config.json, the weights as one
    ``model.safetensors`` and generation_config.json.
    """

    def __init__(self, config: dict[str, Any], tensors: dict[str, Any]) -> None:
        from transformers import GenerationConfig

        self.config = config
        self.tensors = tensors
        self.generation_config = GenerationConfig()

    def save_pretrained(self, target: Path) -> None:
        from safetensors.torch import save_file

        target = Path(target)
        target.mkdir(parents=True, exist_ok=True)
        (target / "config.json").write_text(json.dumps(self.config, indent=2) + "\n", encoding="utf-8")
        tensors = {name: tensor.contiguous() for name, tensor in self.tensors.items()}
        save_file(tensors, target / "model.safetensors", metadata={"format": "pt"})
        self.generation_config.save_pretrained(target)


class TokenizerAndImageConfig:
    """The processor side of a hand-written folder: the tokenizer, and preprocessor_config.json as the hub's."""

    def __init__(self, tokenizer: Any, preprocessor: dict[str, Any]) -> None:
        self.tokenizer = tokenizer
        self.preprocessor = preprocessor

    def save_pretrained(self, target: Path) -> None:
        self.tokenizer.save_pretrained(target)
        text = json.dumps(self.preprocessor, indent=2) + "\n"
        (Path(target) / "preprocessor_config.json").write_text(text, encoding="utf-8")


def _normal(*shape: int) -> Any:
    import torch

    return torch.randn(*shape) * INIT_RANGE


def _ones(size: int) -> Any:
    import torch

    return torch.ones(size)


def _qwen2_weights(prefix: str, vocab: int, text: dict[str, Any]) -> dict[str, Any]:
    """A Qwen2 causal LM's weights under `prefix` (``llm.``), untied head as Qwen2.5-7B has."""
    hidden, inter = text["hidden_size"], text["intermediate_size"]
    kv = hidden // text["num_attention_heads"] * text["num_key_value_heads"]
    weights = {f"{prefix}model.embed_tokens.weight": _normal(vocab, hidden),
               f"{prefix}model.norm.weight": _ones(hidden), f"{prefix}lm_head.weight": _normal(vocab, hidden)}
    for layer in range(text["num_hidden_layers"]):
        at = f"{prefix}model.layers.{layer}."
        weights |= {at + "input_layernorm.weight": _ones(hidden), at + "post_attention_layernorm.weight": _ones(hidden),
                    at + "self_attn.q_proj.weight": _normal(hidden, hidden), at + "self_attn.q_proj.bias": _normal(hidden),
                    at + "self_attn.k_proj.weight": _normal(kv, hidden), at + "self_attn.k_proj.bias": _normal(kv),
                    at + "self_attn.v_proj.weight": _normal(kv, hidden), at + "self_attn.v_proj.bias": _normal(kv),
                    at + "self_attn.o_proj.weight": _normal(hidden, hidden),
                    at + "mlp.gate_proj.weight": _normal(inter, hidden), at + "mlp.up_proj.weight": _normal(inter, hidden),
                    at + "mlp.down_proj.weight": _normal(hidden, inter)}
    return weights


# Ovis2 (AIDC-AI/Ovis2-*): a Qwen2.5 LM, an AIMv2 ViT whose patch features become a soft "visual
# token" distribution over a visual vocabulary, embedded by `vte`. The hub's conversation formatter
# (QwenConversationFormatter) is ChatML with a default system prompt; each image is "<image>\n" in
# the text, which the Qwen2 tokenizer encodes as plain text and the processor expands.
_OVIS_TEMPLATE = CONTENT_MACRO + (
    "{% if messages[0]['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "{% endif %}"
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n{{ content(message, '<image>\n') }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
_OVIS_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
                "<|image_pad|>", "<|video_pad|>"]
_OVIS_ROLES = {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}
# 56-pixel crops of 14-pixel patches, merged 2x2 (hidden_stride, as the hub's): 4 visual tokens a crop.
_OVIS_VISION = {"model_type": "aimv2", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 1,
                "num_attention_heads": 2, "num_channels": 3, "image_size": 56, "patch_size": 14,
                "rms_norm_eps": 1e-5, "qkv_bias": False, "use_bias": False, "hidden_act": "silu"}
_OVIS_VISUAL_VOCAB = 64  # the hub's is 65536; its last 5 rows embed the image indicator tokens


def _ovis_config(vocab: int, ids: dict[str, int]) -> dict[str, Any]:
    llm = {**TEXT, "model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"], "vocab_size": vocab,
           "bos_token_id": ids["<|endoftext|>"], "eos_token_id": ids["<|im_end|>"], "hidden_act": "silu",
           "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "tie_word_embeddings": False, "use_sliding_window": False,
           "torch_dtype": "float32"}
    visual = {"model_type": "aimv2_visual_tokenizer", "backbone_config": _OVIS_VISION, "backbone_kwargs": {},
              "depths": None, "drop_cls_token": False, "hidden_stride": 2, "tau": 1.0,
              "tokenize_function": "softmax", "vocab_size": _OVIS_VISUAL_VOCAB}
    return {"architectures": ["Ovis"], "model_type": "ovis",
            "auto_map": {"AutoConfig": "configuration_ovis.OvisConfig",
                         "AutoModelForCausalLM": "modeling_ovis.Ovis"},
            "conversation_formatter_class": "QwenConversationFormatter", "disable_tie_weight": False,
            "hidden_size": TEXT["hidden_size"], "llm_attn_implementation": "sdpa", "llm_config": llm,
            "multimodal_max_length": 1024, "torch_dtype": "float32", "use_cache": True,
            "visual_tokenizer_config": visual}


def _ovis_weights(vocab: int) -> dict[str, Any]:
    import torch

    vision = _OVIS_VISION
    width, inter, patch = vision["hidden_size"], vision["intermediate_size"], vision["patch_size"]
    grid = vision["image_size"] // patch
    at = "visual_tokenizer.backbone."
    weights = {at + "preprocessor.patchifier.proj.weight": _normal(width, 3, patch, patch),
               at + "preprocessor.patchifier.proj.bias": _normal(width),
               at + "preprocessor.patchifier.norm.weight": _ones(width),
               at + "preprocessor.pos_embed": _normal(1, grid * grid, width),
               # The hub's trunk has this final norm; Ovis2 does not use it (vLLM skips it too).
               at + "trunk.post_trunk_norm.weight": _ones(width)}
    for block in range(vision["num_hidden_layers"]):
        b = f"{at}trunk.blocks.{block}."
        weights |= {b + "attn.qkv.weight": _normal(3 * width, width), b + "attn.proj.weight": _normal(width, width),
                    b + "norm_1.weight": _ones(width), b + "norm_2.weight": _ones(width),
                    b + "mlp.fc1.weight": _normal(inter, width), b + "mlp.fc3.weight": _normal(inter, width),
                    b + "mlp.fc2.weight": _normal(width, inter)}
    head = _OVIS_VISUAL_VOCAB - 5  # the indicator tokens' rows are never predicted
    weights |= {"visual_tokenizer.head.0.weight": _normal(head, width * 2 * 2),
                "visual_tokenizer.head.1.weight": _ones(head), "visual_tokenizer.head.1.bias": torch.zeros(head),
                "vte.weight": _normal(_OVIS_VISUAL_VOCAB, TEXT["hidden_size"])}
    return weights | _qwen2_weights("llm.", vocab, TEXT)


def _ovis2(tokenizer: Any, ids: dict[str, int]) -> tuple[Any, Any]:
    vocab = len(tokenizer)
    tokenizer.chat_template = _OVIS_TEMPLATE
    side = _OVIS_VISION["image_size"]
    # The visual tokenizer's CLIPImageProcessor, without the centre crop (Ovis pads crops to squares).
    preprocessor = {"image_processor_type": "CLIPImageProcessor", "do_resize": True, "size": {"shortest_edge": side},
                    "resample": 3, "do_center_crop": False, "crop_size": {"height": side, "width": side},
                    "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True, "image_mean": _CLIP_MEAN,
                    "image_std": _CLIP_STD, "do_convert_rgb": True}
    model = HandWrittenCheckpoint(_ovis_config(vocab, ids), _ovis_weights(vocab))
    return model, TokenizerAndImageConfig(tokenizer, preprocessor)


FAMILIES: dict[str, TinyFamily] = {
    # One image a request: vLLM 0.32's Ovis processor stacks each image's indicator tokens into one
    # tensor, so two images cut into different crop grids fail ("ValueError: expected sequence of
    # length 4 at dim 1 (got 10)"); images of one grid work, and the docker test checks that.
    "ovis2": TinyFamily(_OVIS_TOKENS, _OVIS_ROLES, _ovis2, stands_for={"vllm": ("Ovis2",)}, placeholder="<image>",
                        max_images=1, model_type="ovis", hf=False),
}

_REMOTE = "no copy may be made and the hub is unreachable"
# (framework, catalog model_family) -> why no tiny model here checks those rows.
NOT_CHECKED: dict[tuple[str, str], str] = {
    ("vllm", "MiniCPM-V"): (
        "config class (model_type minicpmv) and MiniCPMVImageProcessor live in the checkpoint's remote code: "
        "vLLM 0.32 has neither (its MiniCPMVProcessingInfo loads auto_map['AutoImageProcessor'] with "
        f"get_class_from_dynamic_module) and transformers 5.19 has no minicpmv; {_REMOTE}"),
    ("hf", "MiniCPM-V"): (
        "the rows answer through the checkpoint's remote-code model class and its chat(); transformers 5 "
        f"has no MiniCPM-V 2.x classes (only minicpmv4_6/4_7); {_REMOTE}"),
    ("vllm", "Phi-3.5-vision"): (
        "config (model_type phi3_v) and Phi3VProcessor live in the checkpoint's remote code; vLLM 0.32 "
        f"loads both through AutoConfig/AutoProcessor and transformers 5.19 has neither; {_REMOTE}"),
    ("vllm", "Molmo"): (
        "config (model_type molmo) and MolmoProcessor live in the checkpoint's remote code; vLLM 0.32 "
        f"loads both through AutoConfig/AutoProcessor and transformers 5.19 has neither; {_REMOTE}"),
    ("vllm", "Kimi-VL"): (
        "vLLM 0.32 has the config (KimiVLConfig) but loads KimiVLProcessor, its image processor and the "
        "tiktoken tokenizer (TikTokenTokenizer) from the checkpoint's remote code, which transformers "
        f"5.19 lacks; {_REMOTE}"),
    ("vllm", "DeepSeek-VL2"): (
        "vLLM 0.32 has the config and processor, but builds the vision tower as "
        "timm.create_model('vit_so400m_patch14_siglip_384.webli') whatever config.json says (a fixed "
        "400M-parameter SigLIP, so no tiny checkpoint), and vlmbench/vllm-cpu has no timm "
        "(ImportError: Please install timm)"),
    ("vllm", "Phi-4-multimodal"): (
        "the row's checkpoint is the remote-code layout (model_type phi4mm, Phi4MMForCausalLM, "
        "configuration_/processing_phi4mm.py, vision-lora/ speech-lora/ adapters), the only one vLLM 0.32 "
        "runs; it builds the vision tower as a fixed 27-layer 1152-wide SigLIP whatever config.json says "
        "(get_navit_vision_model), so no tiny checkpoint. transformers' native Phi4MultimodalForCausalLM "
        "was dropped from vLLM after 0.12.0 (a tiny one loads only through the text-only Transformers "
        f"fallback, TransformersForCausalLM); {_REMOTE}"),
}
