"""The Idefics3 family: a SigLIP tower whose patches are shuffled into fewer tokens, and a Llama; SmolVLM, its heir."""

from __future__ import annotations

from typing import Any

from vlmbench.testing.tiny.common import CONTENT_MACRO, INIT_RANGE, TEXT, TinyFamily

# Idefics3 / SmolVLM: "<|im_start|>User:<image>question<end_of_utterance>\nAssistant:".
_IDEFICS3_TEMPLATE = CONTENT_MACRO + (
    "<|im_start|>"
    "{% for message in messages %}"
    "{{ message['role'] | capitalize }}:{{ content(message, '<image>') }}<end_of_utterance>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}Assistant:{% endif %}"
)

_TILE_TAGS = [f"<row_{row}_col_{col}>" for row in range(1, 7) for col in range(1, 7)]
_IDEFICS3_TOKENS = ["<|endoftext|>", "<|im_start|>", "<end_of_utterance>", "<fake_token_around_image>",
                    "<image>", "<global-img>", *_TILE_TAGS]
_IDEFICS3_ROLES = {"bos_token": "<|im_start|>", "eos_token": "<end_of_utterance>",
                   "pad_token": "<|endoftext|>", "image_token": "<image>"}


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


# SmolVLM and SmolVLM2: Idefics3's format, but "User: question" gets a space where the content starts
# with text and none where it starts with an image ("User:<image>question").
_SMOLVLM_TEMPLATE = CONTENT_MACRO + (
    "<|im_start|>"
    "{% for message in messages %}"
    "{{ message['role'] | capitalize }}"
    "{% if message['content'] is not string and message['content'][0]['type'] == 'image' %}:{% else %}: {% endif %}"
    "{{ content(message, '<image>') }}<end_of_utterance>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}Assistant:{% endif %}"
)

_SMOLVLM_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<end_of_utterance>",
                   "<fake_token_around_image>", "<image>", "<global-img>", *_TILE_TAGS]
# As the hub's SmolVLM tokenizers: <|im_end|> pads, <end_of_utterance> ends an answer.
_SMOLVLM_ROLES = {"bos_token": "<|im_start|>", "eos_token": "<end_of_utterance>", "pad_token": "<|im_end|>",
                  "unk_token": "<|endoftext|>", "image_token": "<image>"}


def _smolvlm(tokenizer: Any, ids: dict[str, int]) -> tuple[Any, Any]:
    import transformers as tf

    from vlmbench.models.hf.processors import image_only_processor

    # Idefics3's sizes: 4 image tokens per 32-pixel tile, up to 2x2 tiles and a global one.
    vision = tf.SmolVLMVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                    num_attention_heads=4, image_size=32, patch_size=8,
                                    initializer_range=INIT_RANGE)
    text = tf.LlamaConfig(vocab_size=len(tokenizer), bos_token_id=ids["<|im_start|>"],
                          eos_token_id=ids["<end_of_utterance>"], pad_token_id=ids["<|im_end|>"], **TEXT)
    config = tf.SmolVLMConfig(vision_config=vision, text_config=text, image_token_id=ids["<image>"],
                              scale_factor=2, pad_token_id=ids["<|im_end|>"])
    images = tf.SmolVLMImageProcessorPil(size={"longest_edge": 64}, max_image_size={"longest_edge": 32})
    # The full processor also wants a video processor, which needs torchvision; images are all we use.
    processor_cls = image_only_processor(tf.SmolVLMProcessor)
    processor = processor_cls(images, tokenizer, image_seq_len=4, chat_template=_SMOLVLM_TEMPLATE)
    return tf.SmolVLMForConditionalGeneration(config), processor


FAMILIES: dict[str, TinyFamily] = {
    "idefics3": TinyFamily(_IDEFICS3_TOKENS, _IDEFICS3_ROLES, _idefics3,
                           stands_for={"hf": ("Idefics3",)}, placeholder="<image>"),
    "smolvlm": TinyFamily(_SMOLVLM_TOKENS, _SMOLVLM_ROLES, _smolvlm,
                          stands_for={"hf": ("SmolVLM",)}, placeholder="<image>"),
}

# (framework, catalog model_family) -> why no tiny model here checks those rows.
NOT_CHECKED: dict[tuple[str, str], str] = {}
