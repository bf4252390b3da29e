"""The Florence-2 family: a DaViT vision tower feeding a BART encoder-decoder, prompted by task tokens.

Florence-2 has no chat: the processor turns a task token (``<OCR>``,
``<CAPTION>``) into its fixed question, prepends the image tokens and wraps
the text in ``<s>``/``</s>``. So the tiny model has no chat template and no
placeholder; it reads one image per request and answers nothing without one.
"""

from __future__ import annotations

from typing import Any

from vlmbench.testing.tiny.common import INIT_RANGE, TinyFamily

# BART's special tokens in BART's order (<s> 0, <pad> 1, </s> 2, <unk> 3), then the
# image token the transformers conversion of the hub checkpoints adds.
_FLORENCE_TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>", "<image>"]
_FLORENCE_ROLES = {"bos_token": "<s>", "pad_token": "<pad>", "eos_token": "</s>", "unk_token": "<unk>",
                   "mask_token": "<mask>", "image_token": "<image>"}

# Two DaViT stages, 4 then 2 times down: a 32-pixel image is 4x4 cells, plus the one pooled
# "temporal" token the projector appends: 17 image tokens.
_IMAGE_SIZE = 32
_IMAGE_TOKENS = (_IMAGE_SIZE // 8) ** 2 + 1
_D_MODEL = 64  # two attention heads of 32, as common.TEXT


def _florence2(tokenizer: Any, ids: dict[str, int]) -> tuple[Any, Any]:
    import transformers as tf

    vision = tf.Florence2VisionConfig(
        depths=[1, 1], patch_size=[7, 3], patch_stride=[4, 2], patch_padding=[3, 1],
        patch_prenorm=[False, True], embed_dim=[32, 64], num_heads=[1, 2], num_groups=[1, 2], window_size=2,
        drop_path_rate=0.0, projection_dim=_D_MODEL, max_position_embeddings=8, max_temporal_embeddings=4,
        initializer_range=INIT_RANGE)
    # BART: generation starts from </s>, the answer then opens with <s>, as the hub checkpoints' does.
    # Two decoder layers: with one, the tied embeddings make the decoder repeat its last token whatever
    # the image, and some tasks answer two pictures alike.
    text = tf.BartConfig(
        vocab_size=len(tokenizer), d_model=_D_MODEL, encoder_layers=1, decoder_layers=2,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=128, decoder_ffn_dim=128,
        max_position_embeddings=256, bos_token_id=ids["<s>"], pad_token_id=ids["<pad>"],
        eos_token_id=ids["</s>"], decoder_start_token_id=ids["</s>"], forced_eos_token_id=ids["</s>"],
        init_std=INIT_RANGE, dropout=0.0, attention_dropout=0.0, activation_dropout=0.0)
    config = tf.Florence2Config(text_config=text, vision_config=vision, image_token_id=ids["<image>"],
                                initializer_range=INIT_RANGE)
    # The hub checkpoints' image processor: CLIP's, squashing every image to a fixed square, no crop.
    images = tf.CLIPImageProcessorPil(size={"height": _IMAGE_SIZE, "width": _IMAGE_SIZE},
                                      crop_size={"height": _IMAGE_SIZE, "width": _IMAGE_SIZE},
                                      do_center_crop=False, image_seq_length=_IMAGE_TOKENS,
                                      image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225])
    processor = tf.Florence2Processor(images, tokenizer)
    return tf.Florence2ForConditionalGeneration(config), processor


FAMILIES: dict[str, TinyFamily] = {
    "florence2": TinyFamily(_FLORENCE_TOKENS, _FLORENCE_ROLES, _florence2, stands_for={"hf": ("Florence-2",)},
                            placeholder=None, max_images=1, text_only=False,
                            hf_params={"task_prompt": "<OCR>"}, reads_prompt=False),
}

# (framework, catalog model_family) -> why no tiny model here checks those rows.
NOT_CHECKED: dict[tuple[str, str], str] = {}
