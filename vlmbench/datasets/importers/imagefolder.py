"""Hugging Face imagefolder: image files with a ``metadata.jsonl`` or ``metadata.csv`` beside them.

As ``datasets`` reads the layout: a metadata file names each row's image
in ``file_name`` (or ``*_file_name``; lists in ``file_names`` /
``*_file_names``), relative to the metadata file's folder; split folders
(``train/``, ``test/``, ...) each hold their own metadata file, or one
metadata file at the top names images inside them. The other keys are the
sample's, named as in the parquet import (columns.py).
"""

from __future__ import annotations

import ast
import csv
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from vlmbench.datasets.importers._records import ImageStore, ImportedSample
from vlmbench.datasets.importers.columns import resolve_columns, to_sample
from vlmbench.datasets.importers.hf_parquet import SPLIT_WORDS
from vlmbench.errors import DatasetError, Location

METADATA_FILES = ("metadata.jsonl", "metadata.csv")

Row = tuple[Path, int, dict[str, Any]]  # (metadata file, line or row number, its keys)


def metadata_files(source: Path) -> list[Path]:
    """Every metadata file below ``source``; a folder may hold only one of the two kinds."""
    if not source.is_dir():
        raise DatasetError(f"{source} is not a folder", hint="an imagefolder dataset is a folder of images")
    found = sorted(p for name in METADATA_FILES for p in source.rglob(name))
    folders = [p.parent for p in found]
    for folder in set(folders):
        if folders.count(folder) > 1:
            raise DatasetError(
                f"{folder} holds both metadata.jsonl and metadata.csv", hint="keep one of them"
            )
    if not found:
        raise DatasetError(
            f"{source} has no metadata.jsonl or metadata.csv",
            hint="an imagefolder dataset keeps one beside its images",
        )
    return found


def _list_literal(cell: str) -> Any:
    # A CSV cannot hold lists: answers and options arrive written out as a literal.
    if cell.startswith("[") and cell.endswith("]"):
        try:
            value = ast.literal_eval(cell)
        except (ValueError, SyntaxError):
            return cell
        return value if isinstance(value, list) else cell
    return cell


def _rows(path: Path) -> Iterator[Row]:
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix == ".csv":
        for number, row in enumerate(csv.DictReader(text.splitlines()), start=1):
            yield path, number, {k: _list_literal(v) for k, v in row.items() if k is not None}
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"not valid JSON ({exc.msg})", location=Location(path, number)) from None
        if not isinstance(record, dict):
            raise DatasetError("not a JSON object", location=Location(path, number))
        yield path, number, record


def _image_keys(keys: Any) -> list[str]:
    return [k for k in keys if k in ("file_name", "file_names") or k.endswith(("_file_name", "_file_names"))]


def _split(source: Path, metadata: Path, names: list[str]) -> str | None:
    parts = metadata.parent.relative_to(source).parts or (Path(names[0]).parts[:1] if names else ())
    return parts[0] if parts and parts[0] in SPLIT_WORDS else None


def _placed(source: Path, split: str | None) -> list[tuple[str | None, Row]]:
    placed = []
    for metadata in metadata_files(source):
        for row in _rows(metadata):
            names = [n for k in _image_keys(row[2]) for n in _names(row[2][k])]
            placed.append((_split(source, metadata, names), row))
    splits = sorted({s for s, _ in placed if s})
    if split is None and len(splits) > 1:
        raise DatasetError(
            f"{source} holds splits {', '.join(splits)}",
            hint=f"choose one: vlmbench datasets import hf-imagefolder {source} TARGET "
            f"--split {'test' if 'test' in splits else splits[0]}",
        )
    if split is not None and split not in splits:
        raise DatasetError(
            f"{source} has no split {split!r}",
            hint=f"its splits: {', '.join(splits)}" if splits else "leave out --split",
        )
    return [(s, row) for s, row in placed if split is None or s == split]


def _names(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value or []]


def check_imagefolder(source: Path, split: str | None, overrides: Mapping[str, list[str]]) -> None:
    """What an import would refuse before copying images: metadata files, splits, columns."""
    rows = _placed(source, split)
    keys = list(dict.fromkeys(k for _, (_, _, record) in rows for k in record))
    resolve_columns(keys, _image_keys(keys), overrides, str(source))


def read_imagefolder(
    source: Path,
    store: ImageStore,
    split: str | None = None,
    overrides: Mapping[str, list[str]] | None = None,
) -> Iterator[tuple[Location, ImportedSample]]:
    """The samples of the chosen split, images copied under ``images/`` by their path in ``source``."""
    rows = _placed(source, split)
    keys = list(dict.fromkeys(k for _, (_, _, record) in rows for k in record))
    columns = resolve_columns(keys, _image_keys(keys), overrides or {}, str(source))
    root = source.resolve()
    for count, (row_split, (metadata, number, record)) in enumerate(rows, start=1):

        def where(column: str, metadata: Path = metadata, number: int = number) -> Location:
            return Location(metadata, number, column)

        images = []
        for column in columns.images:
            for name in _names(record.get(column)):
                image = (metadata.parent / name).resolve()
                if not image.is_relative_to(root) or not image.is_file():
                    raise DatasetError(
                        f"image {name!r} is missing or outside the folder", location=where(column)
                    )
                images.append(store.copy(image, image.relative_to(root).as_posix()))
        yield Location(metadata, number), to_sample(record, columns, images, str(count), row_split, where)
