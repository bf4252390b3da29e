"""The GOT-OCR 2 family: a SAM-style vision encoder feeding a Qwen2 decoder, prompted by the image alone.

GotOcr2Processor writes the whole prompt itself (a ChatML conversation
asking for "OCR" or "OCR with format"), so the tiny model has no chat
template and no placeholder; it reads one image per request and nothing
without one.
"""

from __future__ import annotations

from typing import Any

from vlmbench.testing.tiny.common import INIT_RANGE, TEXT, TinyFamily

# The hub tokenizer's special tokens (without its 205 unused <|extra_N|>): ChatML, then GOT's own.
_GOT_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<ref>", "</ref>", "<box>", "</box>", "<quad>",
               "</quad>", "<img>", "</img>", "<imgpad>"]
# As the hub tokenizer: <|endoftext|> begins, ends and pads (the answer itself ends with <|im_end|>).
_GOT_ROLES = {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>"}

# The processor always writes 256 <imgpad> per image (its num_image_tokens is a class default a
# folder cannot change), so the tower must give 16x16 tokens, as the real one does from 1024 pixels:
# 64x64 one-pixel patches, then the projector's two stride-2 convolutions. Windowed attention only,
# so 4096 patches stay cheap.
_IMAGE_SIZE = 64


def _got_ocr2(tokenizer: Any, ids: dict[str, int]) -> tuple[Any, Any]:
    import transformers as tf

    vision = tf.GotOcr2VisionConfig(hidden_size=32, output_channels=16, num_hidden_layers=2,
                                    num_attention_heads=2, image_size=_IMAGE_SIZE, patch_size=1, mlp_dim=64,
                                    window_size=8, global_attn_indexes=[], initializer_range=INIT_RANGE)
    text = tf.Qwen2Config(vocab_size=len(tokenizer), bos_token_id=ids["<|endoftext|>"],
                          eos_token_id=ids["<|endoftext|>"], pad_token_id=ids["<|endoftext|>"],
                          tie_word_embeddings=True, **TEXT)
    config = tf.GotOcr2Config(vision_config=vision, text_config=text, image_token_index=ids["<imgpad>"],
                              image_seq_length=256)
    images = tf.GotOcr2ImageProcessorPil(size={"height": _IMAGE_SIZE, "width": _IMAGE_SIZE},
                                         image_mean=[0.48145466, 0.4578275, 0.40821073],
                                         image_std=[0.26862954, 0.26130258, 0.27577711])
    return tf.GotOcr2ForConditionalGeneration(config), tf.GotOcr2Processor(images, tokenizer)


FAMILIES: dict[str, TinyFamily] = {
    "got_ocr2": TinyFamily(_GOT_TOKENS, _GOT_ROLES, _got_ocr2, stands_for={"hf": ("GOT-OCR2",)},
                           placeholder=None, max_images=1, text_only=False,
                           hf_params={"task_prompt": "ocr"}, reads_prompt=False),
}

# (framework, catalog model_family) -> why no tiny model here checks those rows.
NOT_CHECKED: dict[tuple[str, str], str] = {}
