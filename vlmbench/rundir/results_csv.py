"""results.csv: the scores of a run, one row per (job, metric, aggregator, group).

Written with the csv module rather than pandas so that group names such as
"NA" or "None" survive a round trip as text, and floats keep every digit.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from pydantic import ValidationError

from vlmbench.errors import Location, ReportError
from vlmbench.fileio import write_atomic
from vlmbench.rundir.records import ResultRow

COLUMNS = list(ResultRow.model_fields)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back to the same float
    return str(value)


def write_results_csv(path: Path | str, rows: list[ResultRow]) -> None:
    """Write ``rows`` to ``path`` atomically (header only when there are none)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(getattr(row, column)) for column in COLUMNS])
    write_atomic(path, buffer.getvalue())


def read_results_csv(path: Path | str) -> list[ResultRow]:
    """Read a results.csv written by :func:`write_results_csv`; empty cells of optional fields are None."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ReportError(f"cannot read results: {exc.strerror}", location=Location(path)) from None
    reader = csv.DictReader(io.StringIO(text))
    required = [c for c in COLUMNS if ResultRow.model_fields[c].is_required()]
    missing = [c for c in required if c not in (reader.fieldnames or [])]
    if missing:
        raise ReportError(
            f"missing column(s) {', '.join(missing)}",
            hint=f"expected header: {','.join(COLUMNS)}",
            location=Location(path),
        )
    rows: list[ResultRow] = []
    for number, record in enumerate(reader, start=1):
        # An empty cell of an optional field means "not set": let it fall back to None/default.
        values = {k: v for k, v in record.items() if k in COLUMNS and v is not None and (v or k in required)}
        try:
            rows.append(ResultRow.model_validate(values))
        except ValidationError as exc:
            error = exc.errors()[0]
            column = str(error["loc"][0]) if error["loc"] else None
            raise ReportError(error["msg"], location=Location(path, number, column)) from None
    return rows
