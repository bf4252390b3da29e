"""Importers: the field's dataset files turned into a vlmbench folder (annotations.jsonl + images/).

- ``vlmevalkit-tsv`` (vlmevalkit_tsv.py): VLMEvalKit's benchmark TSVs.
- ``hf-parquet`` (hf_parquet.py): Hugging Face datasets as parquet or arrow
  files, with the column names of columns.py or ``--map``.
- ``hf-imagefolder`` (imagefolder.py): images with a metadata file.

An import is written into a hidden temporary folder beside the target and
renamed into place at the end, so a failed import leaves nothing behind.
cache.py imports a file a run CSV names into the data folder on first use.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from vlmbench.datasets.folder import ANNOTATIONS_JSONL, holds_annotation
from vlmbench.datasets.importers._records import ImageStore, ImportedSample
from vlmbench.datasets.importers.columns import parse_overrides
from vlmbench.datasets.importers.hf_parquet import SUFFIXES, check_parquet, read_hf_parquet
from vlmbench.datasets.importers.imagefolder import METADATA_FILES, check_imagefolder, read_imagefolder
from vlmbench.datasets.importers.vlmevalkit_tsv import read_vlmevalkit_tsv
from vlmbench.errors import DatasetError, Location

FORMATS = ("vlmevalkit-tsv", "hf-parquet", "hf-imagefolder")

Reader = Callable[[Path, ImageStore], Iterator[tuple[Location, ImportedSample]]]

__all__ = ["FORMATS", "check_import", "detect_format", "import_dataset"]


def detect_format(path: Path) -> str | None:
    """The format of a file or folder a user names, or None when it is not one an importer reads."""
    if path.is_file():
        return {".tsv": "vlmevalkit-tsv", ".parquet": "hf-parquet", ".arrow": "hf-parquet"}.get(
            path.suffix.lower()
        )
    if not path.is_dir() or holds_annotation(path):
        return None
    # A split folder's metadata is one level down (train/metadata.jsonl); deeper searches cost a big folder.
    near = [path, *(p for p in path.iterdir() if p.is_dir())]
    if any((folder / name).is_file() for folder in near for name in METADATA_FILES):
        return "hf-imagefolder"
    if any(p.suffix in SUFFIXES for folder in near for p in folder.iterdir()):
        return "hf-parquet"
    return None


def _reader(kind: str, split: str | None, columns: Sequence[str]) -> Reader:
    if kind not in FORMATS:
        raise DatasetError(f"unknown format {kind!r}", hint=f"choose one of: {', '.join(FORMATS)}")
    overrides = parse_overrides(columns)
    if kind == "vlmevalkit-tsv":
        if overrides:
            raise DatasetError(
                "--map applies to hf-parquet and hf-imagefolder; a TSV's columns are VLMEvalKit's"
            )
        if split is None:
            return read_vlmevalkit_tsv
        return lambda source, store: (
            (where, sample) for where, sample in read_vlmevalkit_tsv(source, store) if sample.split == split
        )
    read = read_hf_parquet if kind == "hf-parquet" else read_imagefolder
    return lambda source, store: read(source, store, split, overrides)


def check_import(kind: str, source: Path, split: str | None = None, columns: Sequence[str] = ()) -> None:
    """Refuse what an import would need the user to choose (a split, a column), without importing."""
    _reader(kind, split, columns)
    if kind == "hf-parquet":
        check_parquet(source, split, parse_overrides(columns))
    elif kind == "hf-imagefolder":
        check_imagefolder(source, split, parse_overrides(columns))
    elif not source.is_file():
        raise DatasetError("file not found", location=Location(source))


def import_dataset(
    kind: str,
    source: Path,
    target: Path,
    force: bool = False,
    split: str | None = None,
    columns: Sequence[str] = (),
) -> int:
    """Convert ``source`` (a file or folder of format ``kind``) into the folder ``target``; the sample count.

    ``split`` keeps one split; ``columns`` are ``ours=theirs`` overrides of the column names.
    """
    read = _reader(kind, split, columns)
    source, target = Path(source), Path(target)
    if target.exists() and not force:
        raise DatasetError(f"{target} already exists", hint="choose another folder, or pass --force")
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{target.name}.importing-", dir=target.parent))
    try:
        first_row: dict[str, Location] = {}
        with (building / ANNOTATIONS_JSONL).open("w", encoding="utf-8") as out:
            for where, sample in read(source, ImageStore(building)):
                if sample.id in first_row:
                    raise DatasetError(
                        f"duplicate id {sample.id!r}, first in {first_row[sample.id]}",
                        location=where,
                        hint="with --map id=COLUMN name a column that differs in every row",
                    )
                first_row[sample.id] = where
                out.write(sample.line() + "\n")
        if not first_row:
            raise DatasetError(f"{source} holds no samples" + (f" of split {split!r}" if split else ""))
        building.chmod(0o755)  # mkdtemp makes it 0700; a container user must read it
        if target.exists():
            # Move the old copy aside first: rename cannot replace a non-empty folder.
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, old / target.name)
            shutil.rmtree(old, ignore_errors=True)
        os.rename(building, target)
        return len(first_row)
    finally:
        shutil.rmtree(building, ignore_errors=True)
