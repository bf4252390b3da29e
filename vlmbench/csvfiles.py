"""Reading the user's CSV files: `,` or `;`, with or without a BOM.

Rows keep their 1-based data-row number so that every problem can name
the line a person sees in a spreadsheet.
"""

from __future__ import annotations

import ast
import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vlmbench.errors import Location, VlmbenchError


@dataclass(frozen=True)
class CsvTable:
    path: Path
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (data-row number, cell by column)


def read_csv_table(path: Path, error: type[VlmbenchError] = VlmbenchError) -> CsvTable:
    """Read a CSV whose separator is guessed from its header line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise error("file not found", location=Location(path)) from None
    except UnicodeDecodeError as exc:
        raise error(f"not UTF-8 text ({exc.reason} at byte {exc.start})", location=Location(path),
                    hint="save the file as UTF-8") from None
    first_line = text.split("\n", 1)[0]
    if not first_line.strip():
        raise error("empty file or blank header line", location=Location(path))
    # The header decides: VLMHyperBench writes ';', spreadsheets often ','.
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [name.strip() for name in next(reader)]
    duplicated = {name for name in header if header.count(name) > 1 and name}
    if duplicated:
        raise error(f"column {sorted(duplicated)[0]!r} appears twice in the header", location=Location(path, 0))
    rows: list[tuple[int, dict[str, str]]] = []
    for number, cells in enumerate(reader, start=1):
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
        except (ValueError, SyntaxError):
            raise ValueError(f"not a list literal: {cell!r}") from None
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"not a list literal: {cell!r}")
        return [str(item).strip() for item in value if str(item).strip()]
    separator = "|" if "|" in cell or not commas else ","
    return [part.strip() for part in cell.split(separator) if part.strip()]


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
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON ({exc.msg}); write a JSON object such as {example}") from None
    if not isinstance(value, dict):
        raise ValueError(f"must be a JSON object such as {example}")
    secrets = sorted(SECRET_PARAMS & set(value))
    if secrets:
        raise ValueError(f"{secrets[0]!r} would be written to job.json; pass secrets through the environment "
                         f"and name the variable instead (e.g. \"api_key_env\": \"MY_API_KEY\")")
    return value
