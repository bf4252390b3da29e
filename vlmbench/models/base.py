"""The model interface: one batched call for every kind of request.

Text-only, single-image and multi-image requests share one shape
(:class:`Request`), so a benchmark never needs to know which kind a model
was built for. Adapters subclass :class:`VisionLanguageModel`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from vlmbench.models.packaged import resolve_packaged

if TYPE_CHECKING:  # rundir.records imports this module
    from vlmbench.rundir.records import JobSpec


class GenerationParams(BaseModel):
    """Decoding settings; adapters map them onto their backend's names."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_new_tokens: int = Field(default=256, ge=1)
    temperature: float = Field(default=0.0, ge=0.0)

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0


class Request(BaseModel):
    """One question to a model: a prompt and zero, one or many images."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    prompt: str
    images: list[Image.Image] = Field(default_factory=list)
    system_prompt: str | None = None
    params: GenerationParams = Field(default_factory=GenerationParams)


class VisionLanguageModel(ABC):
    """Base of every model adapter.

    ``__init__`` receives the catalog row's ``weights`` and its ``params``
    (plus run-CSV ``params``) as keyword arguments; it must load everything
    heavy, once, so that :meth:`generate` only computes.
    """

    #: Largest batch the adapter gains from; the worker never sends more.
    max_batch_size: int = 1
    #: Whether the worker decodes the next batches' images in a thread while :meth:`generate` runs. Right
    #: when generate() leaves the interpreter idle (a GPU, a subprocess, a server); a model computing on the
    #: CPU in this process is slowed by that thread (it takes cores and the GIL), so it sets False.
    decode_ahead: bool = True

    def __init__(self, weights: str | None = None, **params: Any) -> None:
        self.weights = weights
        self.params = params

    @classmethod
    def for_job(cls, spec: JobSpec) -> VisionLanguageModel:
        """The model a job runs: its catalog row's weights and params as keyword arguments.

        An adapter whose model wants more of the job at construction (a peer's
        interface taking the model's name and the system prompt) overrides this.
        """
        return cls(weights=resolve_packaged(spec.model.weights), **spec.model.params)

    @abstractmethod
    def generate(self, requests: Sequence[Request]) -> list[str]:
        """Answer each request, in order; one string per request."""

    def close(self) -> None:  # noqa: B027 - optional hook, most adapters hold nothing
        """Release what the model holds (GPU memory, servers, processes)."""
