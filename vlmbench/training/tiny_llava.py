"""A tiny LLaVA (CLIP vision tower + Llama text model) with a tokenizer trained on the spot.

Everything is a stock transformers class, saved in the layout the hub
uses, so ``AutoProcessor`` and ``AutoModelForImageTextToText`` load the
folder like any LLaVA checkpoint and the generic HF adapter needs no
special case for it.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

PAD, END, SYSTEM, USER, ASSISTANT, IMAGE = "<|pad|>", "<|end|>", "<|system|>", "<|user|>", "<|assistant|>", "<image>"
SPECIAL_TOKENS = [PAD, END, SYSTEM, USER, ASSISTANT, IMAGE]

# Images go first whatever the order of the message's parts: the model was
# trained that way, and a caller that puts the question before the image
# must still get the answer the model learned to give.
CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'system' -%}<|system|>"
    "{%- elif message['role'] == 'assistant' -%}<|assistant|>"
    "{%- else -%}<|user|>{%- endif -%}"
    "{%- if message['content'] is string -%}{{ message['content'] | trim }}"
    "{%- else -%}"
    "{%- for part in message['content'] if part['type'] == 'image' -%}<image>{%- endfor -%}"
    "{%- for part in message['content'] if part['type'] == 'text' -%}{{ part['text'] | trim }}{%- endfor -%}"
    "{%- endif -%}<|end|>"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}<|assistant|>{%- endif -%}"
)


class TinyLlavaSize(BaseModel):
    """The knobs that set the model's size; the defaults are the shipped model's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    image_size: int = Field(default=64, ge=8)
    patch_size: int = Field(default=8, ge=2)
    vision_hidden: int = Field(default=96, ge=16)
    vision_layers: int = Field(default=3, ge=1)
    text_hidden: int = Field(default=128, ge=16)
    text_layers: int = Field(default=3, ge=1)
    heads: int = Field(default=4, ge=1)
    vocab_size: int = Field(default=384, ge=300)  # at most: BPE stops once every easy-VQA word is one token

    @property
    def image_tokens(self) -> int:
        """Patches plus the class token: the text model sees the vision tower's summary too."""
        return (self.image_size // self.patch_size) ** 2 + 1


def user_message(question: str) -> list[dict]:
    """The chat messages of one easy-VQA question about one image."""
    return [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]}]


def train_tokenizer(texts: Iterable[str], vocab_size: int):
    """A byte-level BPE tokenizer over ``texts``: any text encodes, easy-VQA words are single tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    core.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token=PAD, eos_token=END,
        extra_special_tokens={"image_token": IMAGE}, padding_side="left",
    )


def build_processor(tokenizer, size: TinyLlavaSize):
    """LlavaProcessor: CLIP-style image preprocessing to ``image_size`` squares, the chat template above."""
    from transformers import LlavaProcessor
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    # The PIL backend: torchvision is not a dependency of vlmbench.
    image_processor = CLIPImageProcessorPil(
        size={"shortest_edge": size.image_size},
        crop_size={"height": size.image_size, "width": size.image_size},
        image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5],
    )
    return LlavaProcessor(
        image_processor=image_processor, tokenizer=tokenizer, patch_size=size.patch_size,
        # "full" keeps the class token: the auxiliary training target makes it hold shape and colour.
        vision_feature_select_strategy="full", num_additional_image_tokens=1,
        chat_template=CHAT_TEMPLATE, image_token=IMAGE,
    )


def build_model(tokenizer, size: TinyLlavaSize, seed: int):
    """A randomly initialised LlavaForConditionalGeneration sized by ``size``."""
    import torch
    from transformers import (
        CLIPVisionConfig,
        GenerationConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
    )

    pad_id, end_id = tokenizer.convert_tokens_to_ids([PAD, END])
    vision = CLIPVisionConfig(
        hidden_size=size.vision_hidden, intermediate_size=2 * size.vision_hidden,
        num_hidden_layers=size.vision_layers, num_attention_heads=size.heads,
        image_size=size.image_size, patch_size=size.patch_size, projection_dim=size.vision_hidden,
    )
    text = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=size.text_hidden, intermediate_size=2 * size.text_hidden,
        num_hidden_layers=size.text_layers, num_attention_heads=size.heads, num_key_value_heads=size.heads,
        max_position_embeddings=256, tie_word_embeddings=True,
        bos_token_id=None, eos_token_id=end_id, pad_token_id=pad_id,
    )
    config = LlavaConfig(
        vision_config=vision, text_config=text,
        image_token_index=tokenizer.convert_tokens_to_ids(IMAGE), image_seq_length=size.image_tokens,
        vision_feature_select_strategy="full",
        # The last layer: with two or three vision layers the usual penultimate one throws half away.
        vision_feature_layer=-1, tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = LlavaForConditionalGeneration(config)
    model.generation_config = GenerationConfig(
        do_sample=False, max_new_tokens=4, eos_token_id=end_id, pad_token_id=pad_id,
    )
    return model
