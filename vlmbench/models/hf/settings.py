"""What a catalog row's ``params`` may tell the transformers adapter, checked on arrival.

Unknown keys are refused with the list of known ones: a typo such as
``max_pixel`` would otherwise be silently ignored and change the results.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from vlmbench.errors import ModelLoadError

DTYPES = ("auto", "float32", "bfloat16", "float16")


class HFSettings(BaseModel):
    """Constructor keywords of :class:`~vlmbench.models.hf.adapter.HFVisionModel` besides ``weights``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    device: str | None = Field(default=None, description="cpu, cuda, cuda:1, mps; default cuda when present")
    device_map: str | dict[str, Any] | None = Field(default=None, description="from_pretrained's, e.g. auto")
    attn_implementation: str | None = Field(default=None, description="sdpa, eager, flash_attention_2")
    trust_remote_code: bool = False
    revision: str | None = Field(default=None, description="hub branch, tag or commit of the weights")
    max_batch_size: int = Field(default=8, ge=1)
    min_pixels: int | None = Field(default=None, ge=1, description="Qwen-VL: fewest pixels per image")
    max_pixels: int | None = Field(default=None, ge=1, description="Qwen-VL: most pixels per image")
    # `task_prompt` is the name VLMHyperBench-style catalogs use for the same thing.
    task: str | None = Field(default=None, validation_alias=AliasChoices("task", "task_prompt"),
                             description="Florence-2, GOT-OCR 2: ocr, caption, ... or a task token; "
                                         "PaliGemma: its task prefix (answer en, caption en, ocr)")
    processor_kwargs: dict[str, Any] = Field(default_factory=dict,
                                             description="for AutoProcessor.from_pretrained")
    generation: dict[str, Any] = Field(default_factory=dict,
                                       description="generate() defaults such as repetition_penalty")
    seed: int | None = Field(default=None, description="seeds torch once, for repeatable sampling")


def parse_settings(params: dict[str, Any], model_name: str) -> HFSettings:
    """Check catalog/run params; every problem in one error a user can act on."""
    try:
        return HFSettings(**params)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in error['loc']) or 'params'}: {error['msg']}"
                             for error in exc.errors())
        known = ", ".join(HFSettings.model_fields)
        raise ModelLoadError(f"bad params for {model_name}: {problems}",
                             hint=f"known params: {known}") from None
