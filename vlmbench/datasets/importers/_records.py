"""What every importer shares: the sample it writes, options and answers, image files.

Peers spell multiple choice three ways: options in columns ``A``..``Z``
with the answer's letter (VLMEvalKit, MMBench), or a list of options with
the answer as a 0-based index (ScienceQA, AI2D) or as the option's text.
All three become vlmbench's form: ``choices`` in order and the answer's
letter.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import string
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from vlmbench.errors import DatasetError, Location

OPTION_LETTERS = string.ascii_uppercase
# What pandas, and so VLMEvalKit (pd.isna), reads as a missing option among
# the spellings that reach TSVs: an empty cell (to_csv writes NaN so) and the
# text of a NaN or None written with str(). Other pandas NA words ("NA",
# "N/A", "null") can be real option texts and stay options.
MISSING_CELLS = {"", "nan", "NaN", "None"}

Where = Callable[[str], Location]  # column -> the location of this row's cell


class ImportedSample(BaseModel):
    """One line of the annotations.jsonl an importer writes (see annotations_jsonl.py for the reader)."""

    id: str
    images: list[str] = Field(default_factory=list)
    question: str
    answer: str
    choices: list[str] = Field(default_factory=list)
    split: str | None = None
    doc_class: str | None = None
    question_type: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    def line(self) -> str:
        # The answer stays even when empty (a test split without labels): the reader needs the key.
        return json.dumps(
            self.model_dump(exclude_defaults=True) | {"answer": self.answer}, ensure_ascii=False
        )


def text(value: Any) -> str:
    """A cell as text: "" for a missing cell (None, blank, a written-out NaN/None)."""
    if value is None or isinstance(value, float) and value != value:
        return ""
    value = str(value).strip()
    return "" if value in MISSING_CELLS else value


def letter_options(row: Mapping[str, Any], where: Where) -> list[str]:
    """The options in columns A, B, ... in order; a gap before a later option is refused."""
    options: list[str] = []
    gap: str | None = None
    for letter in OPTION_LETTERS:
        option = text(row.get(letter))
        if not option:
            gap = gap or letter
            continue
        if gap:
            raise DatasetError(
                f"option {letter} follows the empty option {gap}",
                location=where(gap),
                hint="lettering the options again would change which option the answer letter names; "
                "fill the empty option or move the later ones up and fix the answer",
            )
        options.append(option)
    return options


def choice_answer(answer: Any, choices: list[str], where: Where) -> str:
    """The answer of a multiple-choice row as the letter of its option.

    A letter is kept; an integer or a string of digits is a 0-based index
    (ScienceQA, AI2D: lmms-eval reads them so); else the text of an option.
    """
    letters = OPTION_LETTERS[: len(choices)]
    given = text(answer)
    if len(given) == 1 and given in OPTION_LETTERS:
        if given not in letters:
            raise DatasetError(
                f"the answer {given!r} names no option: the row has options {', '.join(letters)}",
                location=where("answer"),
            )
        return given
    if isinstance(answer, int) and not isinstance(answer, bool) or given.isdigit():
        if int(given) >= len(choices):
            raise DatasetError(
                f"the answer index {given} is past the last option (the row has {len(choices)})",
                location=where("answer"),
                hint="an index answer counts options from 0",
            )
        return letters[int(given)]
    named = [letter for letter, option in zip(letters, choices, strict=True) if option == given]
    if len(named) == 1:
        return named[0]
    raise DatasetError(
        f"the answer {given!r} is neither an option letter, a 0-based index nor one option's text",
        location=where("answer"),
    )


def image_suffix(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return ".png"
    if data.startswith(b"\xff\xd8"):
        return ".jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    if data[:3] == b"GIF":
        return ".gif"
    return ".img"


class ImageStore:
    """Writes image bytes under ``images/`` of the folder being built, each distinct image once.

    Named by content: a dataset that repeats an image per question (DocVQA
    has several questions per page) keeps one file.
    """

    def __init__(self, root: Path):
        self.root = root
        (root / "images").mkdir(parents=True, exist_ok=True)
        self.written: set[str] = set()

    def add(self, data: bytes) -> str:
        relative = f"images/{hashlib.sha256(data).hexdigest()[:20]}{image_suffix(data)}"
        if relative not in self.written:
            (self.root / relative).write_bytes(data)
            self.written.add(relative)
        return relative

    def copy(self, image: Path, relative: str) -> str:
        """Copy an image file, keeping its path (below the source folder) under ``images/``."""
        target = f"images/{relative}"
        if target not in self.written:
            (self.root / target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(image, self.root / target)
            self.written.add(target)
        return target
