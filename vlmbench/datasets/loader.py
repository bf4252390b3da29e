"""Reading a dataset folder (``annotation.csv`` or ``annotations.jsonl``) into samples.

The pieces live beside this module: folder.py lists the folder and
fingerprints it, annotation_csv.py and annotations_jsonl.py read the rows,
images.py checks every image path stays inside the folder. Here they are
put together, and every bad row is collected into one DatasetError.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from vlmbench.datasets.annotation_csv import csv_rows
from vlmbench.datasets.annotations_jsonl import jsonl_rows
from vlmbench.datasets.folder import (
    ANNOTATION_CSV,
    ANNOTATION_FILES,
    ANNOTATIONS_JSONL,
    fingerprint_files,
    folder_of,
    scan_files,
)
from vlmbench.datasets.images import ImagePathChecker
from vlmbench.datasets.rows import RowError
from vlmbench.datasets.schema import Sample
from vlmbench.datasets.selection import select_samples  # noqa: F401 - its home before selection.py
from vlmbench.errors import DatasetError, Location, Problem
from vlmbench.fileio import expand_user, read_regular

MAX_PROBLEMS = 20  # beyond this a user learns nothing new from more lines
CACHE_SIZE = 8  # dataset folders whose parse is kept per process


class Dataset(BaseModel):
    """A loaded dataset folder: its samples and a fingerprint of its files."""

    name: str
    root: Path
    samples: list[Sample]
    fingerprint: str
    files: dict[str, int] = Field(default_factory=dict, repr=False)  # the listing: relative path -> size


# Planning reads a dataset once per run CSV row and scoring once more: the
# parse of a folder is kept, keyed by its resolved path, and reused while the
# annotation's bytes and the folder listing (paths and sizes) are unchanged.
_CACHE: OrderedDict[Path, tuple[tuple, Dataset]] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def clear_dataset_cache() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()


def _header_line(path: Path) -> str:
    with path.open(encoding="utf-8-sig", errors="replace") as handle:
        return handle.readline()


def load_dataset(path: Path, name: str | None = None) -> Dataset:
    """Read a dataset folder (or its annotation file); every problem is a :class:`DatasetError`.

    A folder read before in this process, whose annotation bytes and file
    listing are unchanged, is not parsed again (see :data:`_CACHE`).
    """
    path = folder_of(expand_user(path))
    if not path.is_dir():
        raise DatasetError(
            f"dataset folder not found: {path}", hint=f"give a folder holding {ANNOTATION_CSV}"
        )
    root = path.resolve()
    files = scan_files(root)
    present = [n for n in ANNOTATION_FILES if n in files]
    for file_name in ANNOTATION_FILES:
        if file_name not in present and os.path.lexists(root / file_name):  # a FIFO or a device
            read_regular(root / file_name, DatasetError, "annotation file")
    if not present:
        raise DatasetError(
            f"{root}: no annotation file",
            hint=f"a dataset folder holds {ANNOTATION_CSV} (VLMHyperBench layout) or {ANNOTATIONS_JSONL}",
        )
    if len(present) == 2:
        raise DatasetError(
            f"{root}: both {ANNOTATION_CSV} and {ANNOTATIONS_JSONL} found",
            hint="keep one of them, so it is clear which samples the dataset holds",
        )
    # The annotation's bytes, not its mtime: two writes within one clock tick
    # keep the mtime, and reading and hashing even 10k rows takes a millisecond.
    annotation = root / present[0]
    if not annotation.resolve().is_relative_to(root):  # the container mounts the folder alone
        raise DatasetError(f"{annotation} links to {annotation.resolve()}, outside the dataset folder",
                           hint="copy the annotation file into the folder instead of linking to it")
    key = (present[0], hashlib.sha256(read_regular(annotation, DatasetError, "annotation file")).digest(), files)
    with _CACHE_LOCK:
        cached = _CACHE.get(root)
    if cached is None or cached[0] != key:
        cached = (key, _parse(root, files, present[0]))
        with _CACHE_LOCK:
            _CACHE[root] = cached
            _CACHE.move_to_end(root)
            while len(_CACHE) > CACHE_SIZE:
                _CACHE.popitem(last=False)
    dataset = cached[1]
    # A fresh list per caller, so one caller's edits never reach another's samples.
    return dataset.model_copy(update={"name": name or root.name, "samples": list(dataset.samples)})


def _parse(root: Path, files: dict[str, int], annotation_name: str) -> Dataset:
    annotation = root / annotation_name
    is_csv = annotation_name == ANNOTATION_CSV
    rows = csv_rows(annotation) if is_csv else jsonl_rows(annotation)
    id_column, image_column = ("data_index", "image_path") if is_csv else ("id", "images")
    if is_csv and "data_index" not in _header_line(annotation):
        id_column = "id"  # the CSV reader takes ids from an `id` column when there is no data_index
    check_image = ImagePathChecker(root, files)
    samples: list[Sample] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for row, fields in rows:
        try:
            if isinstance(fields, RowError):
                raise fields
            if fields["id"] in seen:
                raise RowError(
                    f"duplicate id {fields['id']!r}, first used in row {seen[fields['id']]}",
                    "every sample needs its own id",
                    id_column,
                )
            seen[fields["id"]] = row
            fields["images"] = [check_image(raw, image_column) for raw in fields["images"]]
            samples.append(Sample(**fields))
        except RowError as exc:
            problems.append(Problem(exc.message, Location(annotation, row, exc.column), exc.hint))
        except ValidationError as exc:
            first = exc.errors()[0]
            column = ".".join(str(part) for part in first["loc"])
            problems.append(Problem(first["msg"], Location(annotation, row, column)))
        if len(problems) >= MAX_PROBLEMS:
            problems.append(Problem(f"stopped after {MAX_PROBLEMS} problems", Location(annotation)))
            break
    if problems:
        raise DatasetError.from_problems(problems)
    if not samples:
        raise DatasetError(f"{annotation}: no samples", hint="add one row per question below the header")
    fingerprint = fingerprint_files(root, files)
    return Dataset(name=root.name, root=root, samples=samples, fingerprint=fingerprint, files=files)
