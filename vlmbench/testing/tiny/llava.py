"""The LLaVA family: LLaVA 1.5 (a CLIP tower, a projector and a Llama)."""

from __future__ import annotations

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


FAMILIES: dict[str, TinyFamily] = {
    "llava": TinyFamily(["<unk>", "<s>", "</s>", "<pad>", "<image>"], _LLAVA_ROLES, _llava,
                        stands_for={"hf": ("LLaVA-1.5",)}, placeholder="<image>", bos="<s>"),
}

# (framework, catalog model_family) -> why no tiny model here checks those rows.
NOT_CHECKED: dict[tuple[str, str], str] = {}
