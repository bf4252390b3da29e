"""Reading the user's CSV files: `,` or `;`, with or without a BOM.

Rows keep their 1-based data-row number so that every problem can name
the line a person sees in a spreadsheet.
"""

from __future__ import annotations

import ast
import csv
import io
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vlmbench.errors import Location, VlmbenchError
from vlmbench.fileio import decode_text, read_regular

# A run CSV, a catalog or a prompt collection is a few kilobytes; far more is the wrong file.
MAX_CSV_BYTES = 64 * 2**20
_CSV_HINT = "a cell holds at most 128 KiB; check the quotes around cells"


@dataclass(frozen=True)
class CsvTable:
    path: Path
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (data-row number, cell by column)


def read_csv_table(path: Path, error: type[VlmbenchError] = VlmbenchError) -> CsvTable:
    """Read a CSV whose separator is guessed from its header line."""
    path = Path(path)
    try:
        text = decode_text(read_regular(path, error, max_bytes=MAX_CSV_BYTES))
    except UnicodeDecodeError as exc:
        raise error(f"not UTF-8 text ({exc.reason} at byte {exc.start})", location=Location(path),
                    hint="save the file as UTF-8") from None
    first_line = text.split("\n", 1)[0]
    if not first_line.strip():
        raise error("empty file or blank header line", location=Location(path))
    # The header decides: VLMHyperBench writes ';', spreadsheets often ','.
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [name.strip() for name in next(reader)]
    except csv.Error as exc:
        raise error(f"unreadable header: {exc}", location=Location(path, 0), hint=_CSV_HINT) from None
    duplicated = [name for name, n in Counter(header).items() if n > 1 and name]
    if duplicated:
        raise error(f"column {shorten(min(duplicated))} appears twice in the header",
                    location=Location(path, 0))
    rows: list[tuple[int, dict[str, str]]] = []
    for number, cells in _numbered(reader, path, error):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            raise error(
                f"{len(cells)} cells but the header has {len(header)} columns",
                location=Location(path, number),
                hint=f"quote cells that contain {delimiter!r}",
            )
        cells = cells + [""] * (len(header) - len(cells))
        rows.append((number, {name: cell.strip() for name, cell in zip(header, cells, strict=True)}))
    return CsvTable(path, header, rows)


def _numbered(reader: Iterator[list[str]], path: Path, error: type[VlmbenchError]) -> Iterator[tuple[int, list[str]]]:
    """Data rows numbered from 1; a row the csv module cannot read (a cell over its size limit) names its row."""
    number = 0
    while True:
        number += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise error(f"unreadable row: {exc}", location=Location(path, number), hint=_CSV_HINT) from None
        yield number, cells


def clip(text: str, limit: int = 200) -> str:
    """``text`` cut to about ``limit`` characters: a huge cell must not become a huge message."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def shorten(value: object, limit: int = 80) -> str:
    """``repr(value)``, clipped (see :func:`clip`)."""
    return clip(repr(value), limit)


def parse_list(cell: str, commas: bool = True) -> list[str]:
    """A list cell: `['CER', 'WER']` (VLMHyperBench), `CER,WER` or `CER|WER`.

    Without ``commas`` a bare cell splits only on `|`: a value that may itself
    hold a comma (VLMHyperBench's filters name one doc_class or question_type
    as plain text) stays whole.
    """
    cell = cell.strip()
    if not cell:
        return []
    if cell.startswith("["):
        try:
            value = ast.literal_eval(cell)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            raise ValueError(f"not a list literal: {shorten(cell)}") from None
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"not a list literal: {shorten(cell)}")
        return [str(item).strip() for item in value if str(item).strip()]
    separator = "|" if "|" in cell or not commas else ","
    return [part.strip() for part in cell.split(separator) if part.strip()]


MAX_JSON_DEPTH = 32  # params and annotation values are a few levels deep; far more is hostile


def too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether parsed JSON nests lists and objects more than ``limit`` deep (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


# Params are written to job.json and run.json: a secret there would end up on disk.
SECRET_PARAMS = frozenset({"api_key", "token", "hf_token", "password", "secret", "access_token"})


def parse_json_object(cell: Any, example: str = '{"dtype": "bfloat16"}') -> Any:
    """A `params` cell: a JSON object (blank means none) holding no secret; other values pass through."""
    if not isinstance(cell, str):
        value = cell
    elif not cell.strip():
        return {}
    else:
        try:
            value = json.loads(cell)
            deep = too_deep(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON ({exc.msg}); write a JSON object such as {example}") from None
        except RecursionError:
            deep = True
        if deep:
            raise ValueError(f"JSON nested more than {MAX_JSON_DEPTH} deep; write a JSON object such as "
                             f"{example}")
    if not isinstance(value, dict):
        raise ValueError(f"must be a JSON object such as {example}")
    secrets = sorted(SECRET_PARAMS & set(value))
    if secrets:
        raise ValueError(f"{secrets[0]!r} would be written to job.json; pass secrets through the environment "
                         f"and name the variable instead (e.g. \"api_key_env\": \"MY_API_KEY\")")
    return value
