"""Which column of a Hugging Face dataset holds what, and one row turned into a sample.

The defaults cover the names the field's datasets use on the hub, so these
import with no mapping: DocVQA (``questionId``, ``answers``), TextVQA
(``question_id``, ``answers``), ChartQA (``answer``), OCRBench (``answer``
as a list, ``question_type``), MMBench (``index``, ``hint``, options in
``A``..``D``, ``category``), ScienceQA (``choices``, answer index), AI2D
(``options``, answer index as text). ``--map ours=theirs`` overrides any.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from vlmbench.datasets.importers._records import (
    OPTION_LETTERS,
    ImportedSample,
    Where,
    choice_answer,
    letter_options,
    text,
)
from vlmbench.errors import DatasetError

# Our field -> the column names that mean it, most specific first.
DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("question_id", "questionId", "id", "index"),
    "question": ("question",),
    "answer": ("answer", "answers"),
    "answers": ("answers",),
    "choices": ("choices", "options"),
    "doc_class": ("doc_class", "category"),
    "question_type": ("question_type",),
    "hint": ("hint",),
    "split": ("split", "data_split"),
}
FIELDS = ("images", *DEFAULT_COLUMNS)


class ColumnMap(BaseModel):
    """The columns that fill each sample field; every other column is kept as metadata."""

    id: str | None = None
    question: str
    answer: str | None = None
    answers: str | None = None
    images: list[str] = []
    choices: str | None = None
    doc_class: str | None = None
    question_type: str | None = None
    hint: str | None = None
    split: str | None = None

    def used(self) -> set[str]:
        return {v for _, v in self if isinstance(v, str)} | set(self.images)


def parse_overrides(pairs: Sequence[str]) -> dict[str, list[str]]:
    """``--map ours=theirs`` options; ``images`` may name several columns, comma-separated."""
    overrides: dict[str, list[str]] = {}
    for pair in pairs:
        ours, _, theirs = pair.partition("=")
        ours, theirs = ours.strip(), theirs.strip()
        if ours not in FIELDS or not theirs:
            raise DatasetError(f"--map {pair!r}: expected FIELD=COLUMN with FIELD one of {', '.join(FIELDS)}")
        overrides[ours] = [c.strip() for c in theirs.split(",") if c.strip()]
    return overrides


def resolve_columns(
    columns: Sequence[str], image_columns: Sequence[str], overrides: Mapping[str, list[str]], source: str
) -> ColumnMap:
    """The column map of a dataset with ``columns``, of which ``image_columns`` hold images."""
    listed = ", ".join(columns)
    for field, named in overrides.items():
        for column in named:
            if column not in columns:
                raise DatasetError(f"{source}: --map {field}={column}: no such column (columns: {listed})")
    chosen: dict[str, Any] = {}
    for field, names in DEFAULT_COLUMNS.items():
        if field in overrides:
            chosen[field] = overrides[field][0]
        else:
            chosen[field] = next((name for name in names if name in columns), None)
    chosen["images"] = overrides.get("images", list(image_columns))
    if chosen["question"] is None:
        raise DatasetError(
            f"{source}: no question column (columns: {listed})", hint="name it: --map question=COLUMN"
        )
    return ColumnMap(**chosen)


def _choices(value: Any, where: Where, column: str) -> list[str]:
    if isinstance(value, str):
        # MMMU-style: the options list written out as its Python literal.
        try:
            value = ast.literal_eval(value) if value.strip().startswith("[") else [value]
        except (ValueError, SyntaxError):
            raise DatasetError(
                "options that are neither a list nor a list literal", location=where(column)
            ) from None
    options = [text(option) for option in value or []]
    while options and not options[-1]:
        options.pop()
    if "" in options:
        gap = OPTION_LETTERS[options.index("")]
        raise DatasetError(
            f"option {gap} is empty but later ones are not",
            location=where(column),
            hint="an answer's letter or index would name another option once it is dropped",
        )
    return options


def _json_value(value: Any) -> Any:
    """A metadata value as JSON can hold it; bytes (image-like blobs) are left out."""
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items() if not isinstance(v, bytes | bytearray)}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)  # dates, decimals


def to_sample(
    row: Mapping[str, Any],
    columns: ColumnMap,
    images: list[str],
    fallback_id: str,
    split: str | None,
    where: Where,
) -> ImportedSample:
    """One row as a sample; the answer list's first answer is the answer, all of them ``metadata.answers``."""
    answer = row.get(columns.answer) if columns.answer else None
    answers = row.get(columns.answers) if columns.answers else None
    if isinstance(answer, list | tuple):
        answers, answer = (answers if answers is not None else answer), (answer[0] if answer else None)
    choices = _choices(row.get(columns.choices), where, columns.choices) if columns.choices else []
    if not choices:
        choices = letter_options(row, where)
    answer_text = text(answer) if answer is not None else ""
    if choices and answer_text:
        answer_text = choice_answer(answer, choices, where)
    if row.get(columns.question) is None:
        raise DatasetError("no question", location=where(columns.question))
    question = str(row.get(columns.question)).strip()
    hint = text(row.get(columns.hint)) if columns.hint else ""
    if hint:
        question = f"{hint}\n{question}"
    used = columns.used() | (set(OPTION_LETTERS) if choices and not columns.choices else set())
    metadata = {
        key: _json_value(value)
        for key, value in row.items()
        if key not in used and value is not None and not isinstance(value, bytes | bytearray)
    }
    if isinstance(answers, list | tuple) and answers:
        metadata["answers"] = [str(a) for a in answers if a is not None]
    return ImportedSample(
        id=_cell(row, columns.id) or fallback_id,
        images=images,
        question=question,
        answer=answer_text,
        choices=choices,
        split=split or _cell(row, columns.split) or None,
        doc_class=_cell(row, columns.doc_class) or None,
        question_type=_cell(row, columns.question_type) or ("multiple_choice" if choices else None),
        metadata=metadata,
    )


def _cell(row: Mapping[str, Any], column: str | None) -> str:
    return text(row.get(column)) if column else ""
