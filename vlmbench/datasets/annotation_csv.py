"""``annotation.csv``: the VLMHyperBench layout, read into row fields and written by generators.

Any delimiter a spreadsheet uses (``;``, ``,``, tab) is read; lists inside
a cell may be JSON or Python literals, as VLMHyperBench writes them.
"""

from __future__ import annotations

import ast
import contextlib
import csv
import io
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from vlmbench.csvfiles import shorten
from vlmbench.datasets.folder import ANNOTATION_CSV
from vlmbench.datasets.rows import Fields, RowError, Rows, read_text, strings
from vlmbench.datasets.sample_ids import sample_ids
from vlmbench.errors import DatasetError, Location
from vlmbench.fileio import write_atomic

# The VLMHyperBench layout, in its order; only question and answer are required.
CSV_COLUMNS = (
    "data_index",
    "split",
    "image_path",
    "question",
    "answer",
    "doc_class",
    "question_type",
    "answer_bbox",
)
# Columns read into Sample fields; any other column is kept in Sample.metadata.
_CSV_FIELDS = {
    "data_index",
    "id",
    "question",
    "answer",
    "image_path",
    "choices",
    "split",
    "doc_class",
    "question_type",
}


def _literal_list(value: str, column: str) -> list[Any]:
    """Parse ``["a", "b"]`` (JSON) or ``['a', 'b']`` (Python, as VLMHyperBench writes lists)."""
    parsed: Any = None
    try:
        parsed = json.loads(value)
    except (ValueError, RecursionError):
        with contextlib.suppress(ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            parsed = ast.literal_eval(value)
    if not isinstance(parsed, list):
        raise RowError(f"{shorten(value)} is not a list", "write a list as ['a.png', 'b.png']", column)
    return parsed


def _csv_fields(record: dict[str, str], sample_id: str, id_column: str | None) -> Fields:
    def cell(column: str) -> str | None:
        return record.get(column, "").strip() or None

    image_path = cell("image_path") or ""
    images = (
        strings(_literal_list(image_path, "image_path"), "image_path")
        if image_path.startswith("[")
        else [image_path]
        if image_path
        else []
    )
    choices = cell("choices")
    metadata: dict[str, Any] = {k: v.strip() for k, v in record.items() if k not in _CSV_FIELDS and v.strip()}
    if id_column == "data_index" and sample_id != record["data_index"].strip():
        # One question of an image: kept so that by_data_index groups an image's questions.
        metadata["data_index"] = record["data_index"].strip()
    bbox = metadata.get("answer_bbox", "")
    if bbox.startswith("["):
        with contextlib.suppress(RowError):  # else kept as written: no metric needs it parsed
            metadata["answer_bbox"] = _literal_list(bbox, "answer_bbox")
    return {
        "id": sample_id,
        "question": record["question"],
        "answer": record["answer"],
        "images": images,
        "choices": strings(_literal_list(choices, "choices"), "choices") if choices else [],
        "split": cell("split"),
        "doc_class": cell("doc_class"),
        "question_type": cell("question_type"),
        "metadata": metadata,
    }


def _sniff_delimiter(header: str) -> str:
    # The header decides: answers may hold commas in a ';' file, a header never does.
    for delimiter in (";", ",", "\t"):
        try:
            names = {c.strip().lower() for c in next(csv.reader([header], delimiter=delimiter), [])}
        except csv.Error:  # a header the reader cannot take; reported when the file is read
            continue
        if {"question", "answer"} <= names:
            return delimiter
    return max(";,\t", key=header.count)


def _checked_rows(reader: Iterator[list[str]], path: Path) -> Iterator[list[str]]:
    """The reader's rows; a row it cannot read (a cell over the csv module's 128 KiB) is a DatasetError."""
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DatasetError(f"unreadable line {reader.line_num}: {exc}", location=Location(path),
                               hint="a cell holds at most 128 KiB; check the quotes around cells") from None
        yield cells


def csv_rows(path: Path) -> Rows:
    """Rows of an ``annotation.csv`` separated by ``;``, ``,`` or tab, numbered from 1 below the header."""
    text = read_text(path)
    delimiter = _sniff_delimiter(text.split("\n", 1)[0])
    reader = _checked_rows(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), path)
    header = [h.strip() for h in next(reader, [])]
    names = [h.lower() if h.lower() in _CSV_FIELDS | set(CSV_COLUMNS) else h for h in header]
    for name, count in Counter(names).items():
        if count > 1:
            raise DatasetError(
                f"column {shorten(name)} appears twice in the header", location=Location(path, column=name)
            )
    for required in ("question", "answer"):
        if required not in names:
            raise DatasetError(
                f"missing required column {required!r}; the header has: {', '.join(header) or 'nothing'}",
                hint=f"expected columns {';'.join(CSV_COLUMNS)} separated by ';' or ','; "
                "only question and answer are required",
                location=Location(path, column=required),
            )
    id_column = "data_index" if "data_index" in names else "id" if "id" in names else None
    # Read whole before yielding: a row's id depends on whether its data_index repeats anywhere.
    records: list[tuple[int, dict[str, str] | RowError]] = []
    row = 0
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue  # blank lines and the empty rows spreadsheets append
        row += 1
        if len(cells) > len(names):
            records.append((row, RowError(f"{len(cells)} cells, but the header has {len(names)} columns",
                                          f"put values holding {delimiter!r} in double quotes")))
        else:
            records.append((row, dict(zip(names, cells + [""] * (len(names) - len(cells)), strict=True))))
    ids = sample_ids([(n, r) for n, r in records if not isinstance(r, RowError)], id_column)
    for row, record in records:
        sample_id = record if isinstance(record, RowError) else ids[row]
        if isinstance(sample_id, RowError):
            yield row, sample_id
            continue
        try:
            yield row, _csv_fields(record, sample_id, id_column)
        except RowError as exc:
            yield row, exc


def write_annotation_csv(
    target: Path, rows: Iterable[Sequence[object]], extra_columns: Sequence[str] = ()
) -> None:
    """Write ``target/annotation.csv``: the :data:`CSV_COLUMNS` header plus ``extra_columns``, then ``rows``.

    ``;``-separated with ``\\n`` line ends, as VLMHyperBench writes it; the
    one writer every generated dataset uses, so they all read back alike.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow([*CSV_COLUMNS, *extra_columns])
    writer.writerows(rows)
    write_atomic(Path(target) / ANNOTATION_CSV, buffer.getvalue())
