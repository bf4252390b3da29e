"""What an annotation reader yields per row, and the parsing both formats share.

A reader yields, per row, either the keyword arguments of a
:class:`~vlmbench.datasets.schema.Sample` (image paths still raw, as
written) or the :class:`RowError` that row has, so the loader can show
every bad row at once. Problems with the file as a whole (not UTF-8, a
header without question or answer) are raised at once as DatasetError.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vlmbench.csvfiles import shorten
from vlmbench.errors import DatasetError, Location
from vlmbench.fileio import decode_text, read_regular


class RowError(Exception):
    """A problem with one row; collected so the user sees every bad row at once."""

    def __init__(self, message: str, hint: str | None = None, column: str | None = None):
        super().__init__(message)
        self.message, self.hint, self.column = message, hint, column


Fields = dict[str, Any]  # keyword arguments of Sample, with raw image paths
Rows = Iterator[tuple[int, Fields | RowError]]  # (row or line number, its fields or its problem)


def read_text(path: Path) -> str:
    """An annotation file's text; a file that is not UTF-8 names the line of the first bad byte."""
    data = read_regular(path, DatasetError, "annotation file")  # a FIFO or a device is refused, not read
    try:
        # utf-8-sig drops the BOM Excel writes and reads BOM-less files alike.
        return decode_text(data)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DatasetError(
            f"not UTF-8 text (bad byte at line {line})",
            hint="save the file as UTF-8",
            location=Location(path),
        ) from None


def strings(values: Any, column: str) -> list[str]:
    """``values`` as a list of strings; numbers are accepted, since spreadsheets turn ids into them."""
    if not isinstance(values, list) or not all(isinstance(v, str | int | float) for v in values):
        raise RowError(f"{column} must be a list of strings, got {shorten(values)}", None, column)
    return [str(v) for v in values]
