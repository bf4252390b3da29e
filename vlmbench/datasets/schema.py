"""What one dataset sample holds, whatever file it was read from."""

from __future__ import annotations

from dataclasses import field
from typing import Any

from pydantic.dataclasses import dataclass


# A pydantic dataclass with slots rather than a BaseModel, and tuples rather than lists: validated the
# same, but a BaseModel instance carries a __dict__ and a set of the fields given (about 1 KB of a
# sample's 1.5 beside its strings), and each list its own object where every empty tuple is one. A
# dataset of a million samples is held whole while it is scored (issue 13: under 1 GiB in all).
@dataclass(frozen=True, slots=True)
class Sample:
    """One question about zero, one or many images of a dataset folder.

    ``images`` are paths relative to the dataset folder (checked on load
    never to leave it). ``answer`` is the reference; for multiple choice,
    ``choices`` holds the options in order (A, B, C, ...) and ``answer`` the
    right letter. A copy with other values: ``dataclasses.replace``.
    """

    id: str
    question: str
    answer: str
    images: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    split: str | None = None
    doc_class: str | None = None
    question_type: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
