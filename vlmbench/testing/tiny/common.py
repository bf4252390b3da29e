"""What every tiny model builder shares: sizes, the tokenizer, chat-template pieces, the family record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

VOCAB_SIZE = 700
# Wider than the usual 0.02 so that logits differ clearly between tokens: greedy
# answers then depend on the input, and float noise cannot flip an argmax.
INIT_RANGE = 0.2
# Two heads of 32: vLLM's CPU attention kernels take head sizes of 32, 64, 80 and up, not 16,
# and one key/value head for the two query heads keeps grouped-query attention in play.
TEXT = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 2,
        "num_key_value_heads": 1, "max_position_embeddings": 1024, "initializer_range": INIT_RANGE}

_SENTENCES = (
    "What is written in the image? Read the text and answer with one word.",
    "Invoice number 1042, date 2024-03-15, seller Acme Ltd, buyer John Smith, total 1 250.00 USD.",
    "The quick brown fox jumps over the lazy dog; a red circle, a blue square, a green triangle.",
    "Счёт-фактура № 7, дата 15.03.2024, продавец ООО Ромашка, покупатель Иванов, итого 980,50 руб.",
    "Паспорт: фамилия, имя, отчество, дата рождения, место рождения, номер документа.",
    "Which shape is in the picture? How many objects are there? Yes or no: is it blue?",
    "Receipt: coffee 3.50, bread 2.10, milk 1.20; cash, change, thank you for shopping.",
)

# The templates are single lines, so they need no whitespace control: every
# newline in them is one the family's format has. A macro renders a message's
# content, a string or typed parts, with each image part as the family's placeholder.
CONTENT_MACRO = (
    "{% macro content(message, image) %}"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}{{ image }}"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}"
    "{% endmacro %}"
)

# Roles every tokenizer knows; the others become named extra special tokens (tokenizer.image_token, ...).
TOKENIZER_ROLES = ("bos_token", "eos_token", "pad_token", "unk_token")

Builder = Callable[[Any, dict[str, int]], tuple[Any, Any]]  # (tokenizer, token ids) -> (model, processor)


@dataclass(frozen=True)
class TinyFamily:
    """How to build one architecture, and what a conformance run may ask of it.

    `stands_for` maps a catalog framework (hf, vllm, vllm-server) to the
    ``model_family`` values whose rows of that framework this architecture
    checks: only where the rows' checkpoints have this layout and the
    framework's CPU image runs it (a family left out says why in
    :data:`vlmbench.testing.tiny.NOT_CHECKED`). `placeholder` is the token a
    rendered prompt holds per image (None when the processor places images
    itself); `max_images` None means any number; `text_only` whether a
    request without an image is answered.
    """

    special_tokens: list[str]
    roles: dict[str, str]  # tokenizer attribute (eos_token, image_token, ...) -> token
    build: Builder
    stands_for: dict[str, tuple[str, ...]]
    placeholder: str | None
    max_images: int | None = None
    text_only: bool = True
    bos: str | None = None  # prepended to every encoded text, as Llama tokenizers do
    model_type: str | None = None  # the config's model_type, when it is not the architecture's name
    vllm_params: dict[str, Any] = field(default_factory=dict)  # catalog params its vLLM rows need
    # Whether transformers can load the folder: False for the families the catalog runs only through
    # vLLM, whose hub checkpoints transformers reads only with the hub's remote code.
    hf: bool = True
    hf_params: dict[str, Any] = field(default_factory=dict)  # catalog params its hf rows set (Florence-2's task)
    # False for task and OCR models (Florence-2, GOT-OCR 2): the answer depends on the image alone.
    reads_prompt: bool = True
    finish: Callable[[Path], None] | None = None  # edits the saved folder
    # Modules beyond transformers that the transformers adapter needs to load the folder (building needs
    # none of them); tests in an environment without them leave the family out.
    needs: tuple[str, ...] = ()


def train_tokenizer(special_tokens: list[str], bos: str | None = None, vocab_size: int = VOCAB_SIZE) -> Any:
    """A byte-level BPE `tokenizers.Tokenizer` trained on a small English and Russian corpus."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=special_tokens, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(list(_SENTENCES) * 20, trainer)
    if bos:
        tokenizer.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, tokenizer.token_to_id(bos))])
    return tokenizer
