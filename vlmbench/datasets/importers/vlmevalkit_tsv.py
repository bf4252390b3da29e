"""VLMEvalKit TSV: one row per question, images as base64, options in columns ``A``..``Z``.

Read as VLMEvalKit's ImageBaseDataset reads it: an ``image`` cell of at
most 64 characters is not an image but the ``index`` of the row that holds
it (any row, earlier or later; VLMEvalKit stores a shared image once), and a
cell written as a list literal (``['<b64>', '<b64>']``) holds several
images. ``category`` becomes the doc_class, a ``hint`` goes above the
question.
"""

from __future__ import annotations

import ast
import base64
import binascii
import csv
import sys
from collections.abc import Iterator
from pathlib import Path

from vlmbench.datasets.importers._records import (
    OPTION_LETTERS,
    ImageStore,
    ImportedSample,
    letter_options,
    text,
)
from vlmbench.errors import DatasetError, Location

KNOWN_COLUMNS = {
    "index",
    "image",
    "image_path",
    "question",
    "answer",
    "hint",
    "category",
    "l2-category",
    "split",
}
REFERENCE_LENGTH = 64  # VLMEvalKit: an image cell this short is another row's index


def _rows(source: Path) -> Iterator[tuple[int, dict[str, str]]]:
    # Base64 images make cells far longer than csv's default limit.
    csv.field_size_limit(sys.maxsize)
    try:
        with source.open(encoding="utf-8-sig", newline="") as handle:
            yield from enumerate(csv.DictReader(handle, delimiter="\t"), start=1)
    except FileNotFoundError:
        raise DatasetError("file not found", location=Location(source)) from None


def _decode(cell: str, location: Location) -> list[bytes]:
    """The images of a cell: one base64 image, or a list literal of them."""
    cells = [cell]
    if cell.startswith("[") and cell.endswith("]"):
        try:
            cells = [str(item) for item in ast.literal_eval(cell)]
        except (ValueError, SyntaxError):
            raise DatasetError("an image list that is not a Python list literal", location=location) from None
    try:
        return [base64.b64decode(item, validate=True) for item in cells]
    except (binascii.Error, ValueError):
        raise DatasetError(
            "not base64 image data, nor the index of a row holding an image",
            location=location,
            hint="VLMEvalKit TSVs carry base64 images",
        ) from None


def read_vlmevalkit_tsv(source: Path, store: ImageStore) -> Iterator[tuple[Location, ImportedSample]]:
    """The TSV's samples; references to another row's image are resolved once every row is read."""
    samples: list[tuple[Location, ImportedSample]] = []
    images_of: dict[str, list[str]] = {}  # index -> its images, for the rows that hold them
    references: list[tuple[int, str, Location]] = []  # (position in samples, referenced index, where)
    for row_number, row in _rows(source):
        index = (row.get("index") or str(row_number)).strip()
        cell = (row.get("image") or "").strip()
        location = Location(source, row_number, "image")
        if not cell:
            raise DatasetError(
                "empty image cell", location=location, hint="VLMEvalKit TSVs carry base64 images"
            )
        images: list[str] = []
        if len(cell) <= REFERENCE_LENGTH:
            references.append((len(samples), cell, location))
        else:
            images = [store.add(data) for data in _decode(cell, location)]
            images_of[index] = images
        samples.append((Location(source, row_number), _sample(source, row_number, row, index, images)))
    for position, referenced, location in references:
        if referenced not in images_of:
            raise DatasetError(
                f"{referenced!r} is not the index of a row holding an image",
                location=location,
                hint="a short image cell names the index of the row whose image it shares",
            )
        row_location, sample = samples[position]
        samples[position] = (row_location, sample.model_copy(update={"images": images_of[referenced]}))
    yield from samples


def _sample(
    source: Path, row_number: int, row: dict[str, str], index: str, images: list[str]
) -> ImportedSample:
    def where(column: str) -> Location:
        return Location(source, row_number, column)

    choices = letter_options(row, where)
    answer = (row.get("answer") or "").strip()
    if choices and len(answer) == 1 and answer in OPTION_LETTERS[len(choices) :]:
        letters = ", ".join(OPTION_LETTERS[: len(choices)])
        raise DatasetError(
            f"the answer {answer!r} names no option: the row has options {letters}", location=where("answer")
        )
    question = (row.get("question") or "").strip()
    hint = text(row.get("hint"))
    if hint:
        question = f"{hint}\n{question}"
    metadata = {
        key: value
        for key, value in row.items()
        if key not in KNOWN_COLUMNS and key not in OPTION_LETTERS and value
    }
    return ImportedSample(
        id=index,
        images=images,
        question=question,
        answer=answer,
        choices=choices,
        doc_class=text(row.get("category")) or None,
        question_type="multiple_choice" if choices else (text(row.get("l2-category")) or None),
        split=row.get("split") or None,
        metadata=metadata,
    )
