"""Reading a dataset folder (``annotation.csv`` or ``annotations.jsonl``) into samples.

Every image path is checked once, on load, never to leave the folder: the
worker may run in a container with only this folder mounted, and a path
that escapes it would read whatever the host has there.
"""

from __future__ import annotations

import ast
import contextlib
import csv
import hashlib
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from vlmbench.datasets.schema import Sample
from vlmbench.errors import DatasetError, Location, Problem

if TYPE_CHECKING:
    from PIL import Image

ANNOTATION_CSV = "annotation.csv"
ANNOTATIONS_JSONL = "annotations.jsonl"
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
MAX_PROBLEMS = 20  # beyond this a user learns nothing new from more lines


class Dataset(BaseModel):
    """A loaded dataset folder: its samples and a fingerprint of its files."""

    name: str
    root: Path
    samples: list[Sample]
    fingerprint: str


class RowError(Exception):
    """A problem with one row; collected so the user sees every bad row at once."""

    def __init__(self, message: str, hint: str | None = None, column: str | None = None):
        super().__init__(message)
        self.message, self.hint, self.column = message, hint, column


Fields = dict[str, Any]  # keyword arguments of Sample, with raw image paths


def _read_text(path: Path) -> str:
    try:
        # utf-8-sig drops the BOM Excel writes and reads BOM-less files alike.
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise DatasetError(
            f"not UTF-8 text (bad byte at line {line})",
            hint="save the file as UTF-8",
            location=Location(path),
        ) from None


def _literal_list(value: str, column: str) -> list[Any]:
    """Parse ``["a", "b"]`` (JSON) or ``['a', 'b']`` (Python, as VLMHyperBench writes lists)."""
    parsed: Any = None
    try:
        parsed = json.loads(value)
    except ValueError:
        with contextlib.suppress(ValueError, SyntaxError):
            parsed = ast.literal_eval(value)
    if not isinstance(parsed, list):
        raise RowError(f"{value!r} is not a list", "write a list as ['a.png', 'b.png']", column)
    return parsed


def _strings(values: Any, column: str) -> list[str]:
    if not isinstance(values, list) or not all(isinstance(v, str | int | float) for v in values):
        raise RowError(f"{column} must be a list of strings, got {values!r}", None, column)
    return [str(v) for v in values]


def _csv_fields(record: dict[str, str], row: int, id_column: str | None) -> Fields:
    def cell(column: str) -> str | None:
        return record.get(column, "").strip() or None

    sample_id = str(row)
    if id_column:
        sample_id = record[id_column].strip()
        if not sample_id:
            raise RowError(
                f"empty {id_column}",
                "give every row an id, or drop the column to number rows 1, 2, ...",
                id_column,
            )
    image_path = cell("image_path") or ""
    images = (
        _strings(_literal_list(image_path, "image_path"), "image_path")
        if image_path.startswith("[")
        else [image_path]
        if image_path
        else []
    )
    choices = cell("choices")
    metadata: dict[str, Any] = {k: v.strip() for k, v in record.items() if k not in _CSV_FIELDS and v.strip()}
    bbox = metadata.get("answer_bbox", "")
    if bbox.startswith("["):
        with contextlib.suppress(RowError):  # else kept as written: no metric needs it parsed
            metadata["answer_bbox"] = _literal_list(bbox, "answer_bbox")
    return {
        "id": sample_id,
        "question": record["question"],
        "answer": record["answer"],
        "images": images,
        "choices": _strings(_literal_list(choices, "choices"), "choices") if choices else [],
        "split": cell("split"),
        "doc_class": cell("doc_class"),
        "question_type": cell("question_type"),
        "metadata": metadata,
    }


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


def _sniff_delimiter(header: str) -> str:
    # The header decides: answers may hold commas in a ';' file, a header never does.
    for delimiter in (";", ",", "\t"):
        names = {c.strip().lower() for c in next(csv.reader([header], delimiter=delimiter))}
        if {"question", "answer"} <= names:
            return delimiter
    return max(";,\t", key=header.count)


def _csv_rows(path: Path) -> Iterator[tuple[int, Fields | RowError]]:
    text = _read_text(path)
    delimiter = _sniff_delimiter(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip() for h in next(reader, [])]
    names = [h.lower() if h.lower() in _CSV_FIELDS | set(CSV_COLUMNS) else h for h in header]
    for name in names:
        if names.count(name) > 1:
            raise DatasetError(
                f"column {name!r} appears twice in the header", location=Location(path, column=name)
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
    row = 0
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue  # blank lines and the empty rows spreadsheets append
        row += 1
        if len(cells) > len(names):
            yield (
                row,
                RowError(
                    f"{len(cells)} cells, but the header has {len(names)} columns",
                    f"put values holding {delimiter!r} in double quotes",
                ),
            )
            continue
        record = dict(zip(names, cells + [""] * (len(names) - len(cells)), strict=True))
        try:
            yield row, _csv_fields(record, row, id_column)
        except RowError as exc:
            yield row, exc


def _as_text(value: Any) -> str:
    # A JSONL answer may be a number or a whole JSON object (field extraction).
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _jsonl_fields(line: str, lineno: int) -> Fields:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise RowError(
            f"not valid JSON: {exc.msg} at character {exc.colno}",
            'write one JSON object per line: {"id": "1", "images": ["a.png"], "question": "...", '
            '"answer": "..."}',
        ) from None
    if not isinstance(obj, dict):
        raise RowError(f"a JSON {type(obj).__name__}, not an object", "write one JSON object per line")
    for key in ("question", "answer"):
        if obj.get(key) is None:
            raise RowError(f"missing key {key!r}", "every line needs a question and an answer", key)
    images = obj.pop("images", None)
    if images is None:  # a lone "image" is common enough in peer formats to accept
        images = obj.pop("image", [])
    metadata = obj.pop("metadata", None)
    metadata = (
        dict(metadata) if isinstance(metadata, dict) else {} if metadata is None else {"metadata": metadata}
    )
    sample_id = obj.pop("id", None)
    fields: Fields = {
        "id": str(lineno) if sample_id is None else _as_text(sample_id),
        "question": _as_text(obj.pop("question")),
        "answer": _as_text(obj.pop("answer")),
        "images": _strings([images] if isinstance(images, str) else images, "images"),
        "choices": _strings(obj.pop("choices", None) or [], "choices"),
    }
    for key in ("split", "doc_class", "question_type"):
        value = obj.pop(key, None)
        fields[key] = None if value is None else str(value)
    fields["metadata"] = {**metadata, **obj}
    return fields


def _jsonl_rows(path: Path) -> Iterator[tuple[int, Fields | RowError]]:
    for lineno, line in enumerate(_read_text(path).split("\n"), 1):
        if not line.strip():
            continue
        try:
            yield lineno, _jsonl_fields(line, lineno)
        except RowError as exc:
            yield lineno, exc


def _scan(root: Path) -> dict[str, int]:
    """Relative posix path -> size of every non-hidden file under ``root``.

    Symlinked directories are not entered (a link cycle must not hang a
    load); symlinked files are listed with their target's size, or -1 when
    dangling, and are told apart by the caller through a real path check.
    """
    found: dict[str, int] = {}
    stack = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith("."):  # .DS_Store, editor swap files, our temp dirs
                    continue
                rel = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    stack.append((Path(entry.path), rel + "/"))
                elif entry.is_symlink():
                    try:
                        found[rel] = os.stat(entry.path).st_size
                    except OSError:
                        found[rel] = -1
                else:
                    found[rel] = entry.stat(follow_symlinks=False).st_size
    return found


def _fingerprint(root: Path, files: dict[str, int]) -> str:
    # Sizes, not image bytes: hashing 10k images would cost seconds per run,
    # while an edited annotation (the common change) is hashed in full.
    digest = hashlib.sha256()
    for name in (ANNOTATION_CSV, ANNOTATIONS_JSONL):
        if name in files:
            digest.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
    for rel in sorted(files):
        digest.update(f"{rel}\0{files[rel]}\n".encode())
    return digest.hexdigest()[:16]


def dataset_fingerprint(root: Path) -> str:
    """A short sha256 of the annotation bytes and every file's relative path and size."""
    root = Path(root)
    return _fingerprint(root, _scan(root))


class _ImageChecker:
    """Checks image paths against the folder, resolving each distinct path once."""

    def __init__(self, root: Path, files: dict[str, int]):
        self.root = root
        self.real_root = root.resolve()
        self.files = files
        self.checked: dict[str, str] = {}

    def __call__(self, raw: str, column: str) -> str:
        if raw not in self.checked:
            try:
                self.checked[raw] = self._check(raw)
            except RowError as exc:
                exc.column = column
                raise
        return self.checked[raw]

    def _check(self, raw: str) -> str:
        if PurePosixPath(raw).is_absolute() or PureWindowsPath(raw).is_absolute():
            raise RowError(
                f"image path {raw!r} is absolute",
                "image paths must be relative to the dataset folder and stay inside it",
            )
        rel = os.path.normpath(raw).replace(os.sep, "/")
        # Fast path: a plain file found by the scan, no link, no "..": inside by construction.
        if rel in self.files and not rel.startswith("../") and not os.path.islink(self.root / rel):
            return rel
        real = (self.root / raw).resolve()
        if not real.is_relative_to(self.real_root):
            raise RowError(
                f"image path {raw!r} leads outside the dataset folder (to {real})",
                "image paths must stay inside the dataset folder; copy the image into it",
            )
        if not real.is_file():
            raise RowError(
                f"image file not found: {self.root / raw}", "image paths are relative to the dataset folder"
            )
        return real.relative_to(self.real_root).as_posix()


def load_dataset(path: Path, name: str | None = None) -> Dataset:
    """Read a dataset folder (or its annotation file); every problem is a :class:`DatasetError`."""
    path = Path(path).expanduser()
    if path.is_file() and path.name in (ANNOTATION_CSV, ANNOTATIONS_JSONL):
        path = path.parent
    if not path.is_dir():
        raise DatasetError(
            f"dataset folder not found: {path}", hint=f"give a folder holding {ANNOTATION_CSV}"
        )
    root = path.resolve()
    files = _scan(root)
    present = [n for n in (ANNOTATION_CSV, ANNOTATIONS_JSONL) if n in files]
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
    annotation = root / present[0]
    is_csv = present[0] == ANNOTATION_CSV
    rows = _csv_rows(annotation) if is_csv else _jsonl_rows(annotation)
    id_column, image_column = ("data_index", "image_path") if is_csv else ("id", "images")
    check_image = _ImageChecker(root, files)
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
    return Dataset(name=name or root.name, root=root, samples=samples, fingerprint=_fingerprint(root, files))


def select_samples(
    samples: list[Sample],
    doc_classes: list[str] | None = None,
    question_types: list[str] | None = None,
    limit: int | None = None,
) -> list[Sample]:
    """Keep samples of the given doc classes and question types, then the first ``limit``.

    An empty or missing filter keeps everything, so ``[]`` from a blank run
    CSV cell means "no filter", not "no samples".
    """
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    wanted_classes = set(doc_classes or ())
    wanted_types = set(question_types or ())
    kept = [
        s
        for s in samples
        if (not wanted_classes or s.doc_class in wanted_classes)
        and (not wanted_types or s.question_type in wanted_types)
    ]
    return kept if limit is None else kept[:limit]


def load_image(root: Path, relative: str) -> Image.Image:
    """Open an image of the dataset as RGB, fully read; PIL/OS errors pass through."""
    from PIL import Image

    with Image.open(Path(root) / relative) as image:
        has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        if not has_alpha:
            return image.convert("RGB")
        # A plain convert("RGB") shows whatever colour hides under transparent
        # pixels (often black); a reader of the image sees white paper there.
        rgba = image.convert("RGBA")
    page = Image.new("RGB", rgba.size, "white")
    page.paste(rgba, mask=rgba.getchannel("A"))
    return page
