"""A dataset's annotation as VLMHyperBench's metric_evaluator sees it: columns of text, one row per sample.

metric_evaluator joins each answer to the row of annotation.csv whose
0-based position is the answer's ``id`` and copies every column of that
row into its by_id file. For an ``annotation.csv`` dataset these are the
file's own columns and cells, read back as written; for an
``annotations.jsonl`` dataset (which VLMHyperBench cannot read) they are
the VLMHyperBench columns made from each sample, then its free metadata.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from vlmbench.datasets import ANNOTATION_CSV, Dataset, Sample
from vlmbench.datasets.annotation_csv import CSV_COLUMNS
from vlmbench.datasets.rows import read_text

_DELIMITERS = ";,\t"


@dataclass(frozen=True)
class AnnotationTable:
    """Column names and, per sample of ``Dataset.samples`` (same order), its cells."""

    columns: list[str]
    rows: list[list[str]]


def annotation_table(dataset: Dataset) -> AnnotationTable:
    path = dataset.root / ANNOTATION_CSV
    if path.is_file():
        return _file_table(read_text(path))
    return _sample_table(dataset.samples)


def _file_table(text: str) -> AnnotationTable:
    header_line = text.split("\n", 1)[0]
    # As the loader decides: the delimiter that splits the header into question and answer.
    delimiter = next((d for d in _DELIMITERS if {"question", "answer"} <= _names(header_line, d)),
                     max(_DELIMITERS, key=header_line.count))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    columns = [name.strip() for name in next(reader)]
    # The loader skips blank rows (and spreadsheets' empty trailing ones) the same way, so the
    # rows left line up with the dataset's samples.
    rows = [cells + [""] * (len(columns) - len(cells)) for cells in reader if any(c.strip() for c in cells)]
    return AnnotationTable(columns, rows)


def _names(header_line: str, delimiter: str) -> set[str]:
    return {name.strip().lower() for name in next(csv.reader([header_line], delimiter=delimiter))}


def _sample_table(samples: list[Sample]) -> AnnotationTable:
    extra = list(dict.fromkeys(key for s in samples for key in s.metadata if key not in CSV_COLUMNS))
    with_choices = any(s.choices for s in samples)
    columns = [*CSV_COLUMNS, *(["choices"] if with_choices else []), *extra]
    rows = []
    for s in samples:
        # Several images and lists are written as VLMHyperBench writes lists: Python literals.
        image_path = s.images[0] if len(s.images) == 1 else str(list(s.images)) if s.images else ""
        cells = [s.id, s.split or "", image_path, s.question, s.answer, s.doc_class or "",
                 s.question_type or "", _text(s.metadata.get("answer_bbox"))]
        cells += [str(list(s.choices))] if with_choices else []
        rows.append(cells + [_text(s.metadata.get(key)) for key in extra])
    return AnnotationTable(columns, rows)


def _text(value: object) -> str:
    return "" if value is None else str(value)
