"""Importers: peer dataset formats turned into a vlmbench folder (annotations.jsonl + images).

- VLMEvalKit TSV: one row per question, the image as base64 in `image`
  (or, for a repeated image, the `index` of the row that holds it), options
  in columns `A`..`Z`, the answer letter in `answer`.
- Hugging Face imagefolder: images with a `metadata.jsonl` whose
  `file_name` names each image and whose other keys are the sample's.
Every importer writes into a temporary folder renamed at the end, so a
failed import leaves nothing behind.
"""

from __future__ import annotations

import base64
import binascii
import csv
import json
import shutil
import string
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vlmbench.datasets.folder import ANNOTATIONS_JSONL
from vlmbench.errors import DatasetError, Location

FORMATS = ("vlmevalkit-tsv", "hf-imagefolder")
OPTION_LETTERS = string.ascii_uppercase
KNOWN_TSV_COLUMNS = {"index", "image", "image_path", "question", "answer", "hint", "category", "l2-category", "split"}


def _image_suffix(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return ".png"
    if data.startswith(b"\xff\xd8"):
        return ".jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    return ".img"


def _tsv_rows(source: Path) -> Iterator[tuple[int, dict[str, str]]]:
    # Base64 images make cells far longer than csv's default limit.
    csv.field_size_limit(sys.maxsize)
    try:
        with source.open(encoding="utf-8-sig", newline="") as handle:
            yield from enumerate(csv.DictReader(handle, delimiter="\t"), start=1)
    except FileNotFoundError:
        raise DatasetError("file not found", location=Location(source)) from None


# What pandas, and so VLMEvalKit (pd.isna), reads as a missing option among
# the spellings that reach TSVs: an empty cell (to_csv writes NaN so) and the
# text of a NaN or None written with str(). Other pandas NA words ("NA",
# "N/A", "null") can be real option texts and stay options.
MISSING_CELLS = {"", "nan", "NaN", "None"}


def _cell(row: dict[str, str | None], column: str) -> str:
    """The cell's text, or "" when the cell is missing, empty or a written-out NaN/None."""
    value = (row.get(column) or "").strip()
    return "" if value in MISSING_CELLS else value


def _options(source: Path, row_number: int, row: dict[str, str | None]) -> list[str]:
    """The row's options in column order A, B, ...; a gap before a later option is refused."""
    options: list[str] = []
    gap: str | None = None
    for letter in OPTION_LETTERS:
        text = _cell(row, letter)
        if not text:
            gap = gap or letter
            continue
        if gap:
            raise DatasetError(
                f"option {letter} follows the empty option {gap}", location=Location(source, row_number, gap),
                hint="lettering the options again would change which option the answer letter names; "
                     "fill the empty option or move the later ones up and fix the answer",
            )
        options.append(text)
    return options


def _vlmevalkit_records(source: Path, images_dir: Path) -> Iterator[dict[str, Any]]:
    image_of_index: dict[str, str] = {}
    for row_number, row in _tsv_rows(source):
        index = (row.get("index") or str(row_number)).strip()
        cell = (row.get("image") or "").strip()
        location = Location(source, row_number, "image")
        if not cell:
            raise DatasetError("empty image cell", location=location, hint="VLMEvalKit TSVs carry base64 images")
        if len(cell) < 64 and cell in image_of_index:
            relative = image_of_index[cell]  # the image of an earlier row, referenced by its index
        else:
            try:
                data = base64.b64decode(cell, validate=True)
            except (binascii.Error, ValueError):
                raise DatasetError("not base64 image data, nor the index of an earlier row", location=location) from None
            relative = f"images/{index}{_image_suffix(data)}"
            (images_dir.parent / relative).write_bytes(data)
        image_of_index[index] = relative
        choices = _options(source, row_number, row)
        answer = (row.get("answer") or "").strip()
        if choices and len(answer) == 1 and answer in OPTION_LETTERS[len(choices):]:
            letters = ", ".join(OPTION_LETTERS[: len(choices)])
            raise DatasetError(f"the answer {answer!r} names no option: the row has options {letters}",
                               location=Location(source, row_number, "answer"))
        question = (row.get("question") or "").strip()
        hint = _cell(row, "hint")
        if hint:
            question = f"{hint}\n{question}"
        metadata = {key: value for key, value in row.items()
                    if key not in KNOWN_TSV_COLUMNS and key not in OPTION_LETTERS and value}
        yield {
            "id": index, "images": [relative], "question": question, "answer": answer,
            "choices": choices, "doc_class": row.get("category") or None,
            "question_type": "multiple_choice" if choices else (row.get("l2-category") or None),
            "split": row.get("split") or None, **({"metadata": metadata} if metadata else {}),
        }


def _imagefolder_records(source: Path, images_dir: Path) -> Iterator[dict[str, Any]]:
    metadata_path = source / "metadata.jsonl"
    if not metadata_path.is_file():
        raise DatasetError(f"{source} has no metadata.jsonl", hint="an imagefolder dataset keeps one beside its images")
    root = source.resolve()
    for line_number, line in enumerate(metadata_path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        location = Location(metadata_path, line_number)
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"not valid JSON ({exc.msg})", location=location) from None
        names = record.pop("file_name", None)
        names = [names] if isinstance(names, str) else names
        if not names or "question" not in record or "answer" not in record:
            raise DatasetError("needs file_name, question and answer", location=location)
        relatives = []
        for name in names:
            image = (source / name).resolve()
            if not image.is_relative_to(root) or not image.is_file():
                raise DatasetError(f"image {name!r} is missing or outside the folder", location=location)
            relative = f"images/{image.relative_to(root).as_posix().replace('/', '__')}"
            shutil.copyfile(image, images_dir.parent / relative)
            relatives.append(relative)
        record.setdefault("id", str(line_number))
        yield {**record, "id": str(record["id"]), "images": relatives}


def import_dataset(kind: str, source: Path, target: Path, force: bool = False) -> int:
    """Convert `source` (a file or folder of format `kind`) into the folder `target`; returns the sample count."""
    readers = {"vlmevalkit-tsv": _vlmevalkit_records, "hf-imagefolder": _imagefolder_records}
    if kind not in readers:
        raise DatasetError(f"unknown format {kind!r}", hint=f"choose one of: {', '.join(FORMATS)}")
    source, target = Path(source), Path(target)
    if target.exists() and not force:
        raise DatasetError(f"{target} already exists", hint="choose another folder, or pass --force")
    building = target.with_name(f".{target.name}.importing")
    shutil.rmtree(building, ignore_errors=True)
    (building / "images").mkdir(parents=True)
    try:
        count = 0
        with (building / ANNOTATIONS_JSONL).open("w", encoding="utf-8") as out:
            for record in readers[kind](source, building / "images"):
                out.write(json.dumps({k: v for k, v in record.items() if v not in (None, [], "")} | {
                    "answer": record["answer"]}, ensure_ascii=False) + "\n")
                count += 1
        if count == 0:
            raise DatasetError(f"{source} holds no samples")
        if target.exists():
            shutil.rmtree(target)
        building.rename(target)
        return count
    finally:
        shutil.rmtree(building, ignore_errors=True)
