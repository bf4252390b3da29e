"""Tiny random vision-language models of real architectures, built locally in seconds.

Each builder writes a folder that ``from_pretrained`` loads like a hub
checkpoint: the model's real config and weights (random, a few hundred
kilobytes), a byte-level BPE tokenizer trained here on a small corpus with
the special tokens the family's processor needs, the family's real
processor class, and a chat template in the family's format. The answers
are nonsense, but every step a real checkpoint goes through — processor,
chat template, image placeholders, vision tower, left-padded batched
generation — runs for real. Tests, benchmarks and the conformance suite use
them where no model hub can be reached::

    from vlmbench.testing import build_tiny_model
    folder = build_tiny_model("qwen2_vl", tmp_path / "qwen2-vl")

One module per family group holds its builders (``FAMILIES``); this one
gathers them. The builders need ``torch``, ``transformers`` and
``tokenizers``; nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from vlmbench.testing.tiny import florence2, gemma, got_ocr2, idefics, internvl, llava, mllama, others, qwen
from vlmbench.testing.tiny.common import TOKENIZER_ROLES, TinyFamily, train_tokenizer

_MODULES = (llava, idefics, qwen, gemma, mllama, internvl, florence2, got_ocr2, others)
_FAMILIES: dict[str, TinyFamily] = {arch: family for module in _MODULES for arch, family in module.FAMILIES.items()}
TINY_ARCHS: tuple[str, ...] = tuple(_FAMILIES)
# (framework, catalog model_family) -> why no tiny model checks those catalog rows.
NOT_CHECKED: dict[tuple[str, str], str] = {key: why for module in _MODULES for key, why in module.NOT_CHECKED.items()}


def tiny_family(arch: str) -> TinyFamily:
    """What `arch`'s builder makes and what a conformance run may ask of it."""
    if arch not in _FAMILIES:
        raise ValueError(f"unknown tiny architecture {arch!r}; choose one of {', '.join(TINY_ARCHS)}")
    return _FAMILIES[arch]


def loadable_archs() -> tuple[str, ...]:
    """The architectures whose folders the transformers adapter can load here: every module each `needs`
    is importable (PixtralProcessor, for one, loads only beside torchvision)."""
    return tuple(arch for arch, family in _FAMILIES.items()
                 if family.hf and all(importlib.util.find_spec(name) is not None for name in family.needs))


def build_tiny_model(arch: str, target: Path, seed: int = 0) -> Path:
    """Write a tiny random `arch` model with its tokenizer and processor to `target`; returns `target`.

    The same `arch` and `seed` give the same weights and tokenizer, so a
    folder can be rebuilt anywhere and answers the same.
    """
    family = tiny_family(arch)
    import torch
    from transformers import TokenizersBackend

    from vlmbench.models.hf.hub_layout import to_hub_weight_names

    roles = {role: token for role, token in family.roles.items() if role in TOKENIZER_ROLES}
    extra = {role: token for role, token in family.roles.items() if role not in roles}
    tokenizer = TokenizersBackend(tokenizer_object=train_tokenizer(family.special_tokens, family.bos),
                                  extra_special_tokens=extra, **roles)
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in family.special_tokens}
    torch.manual_seed(seed)
    model, processor = family.build(tokenizer, ids)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(target)
    processor.save_pretrained(target)
    to_hub_weight_names(target)  # what vLLM reads, as real checkpoints
    if family.finish:
        family.finish(target)
    marker = json.dumps({"arch": arch, "seed": seed}) + "\n"
    (target / "vlmbench-tiny.json").write_text(marker, encoding="utf-8")
    return target


__all__ = ["NOT_CHECKED", "TINY_ARCHS", "TinyFamily", "build_tiny_model", "loadable_archs", "tiny_family"]
