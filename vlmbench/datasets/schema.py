"""What one dataset sample holds, whatever file it was read from."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Sample(BaseModel):
    """One question about zero, one or many images of a dataset folder.

    ``images`` are paths relative to the dataset folder (checked on load
    never to leave it). ``answer`` is the reference; for multiple choice,
    ``choices`` holds the options in order (A, B, C, ...) and ``answer`` the
    right letter.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    question: str
    answer: str
    images: list[str] = Field(default_factory=list)
    choices: list[str] = Field(default_factory=list)
    split: str | None = None
    doc_class: str | None = None
    question_type: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
