"""Hugging Face datasets saved as files: parquet as the hub keeps them, arrow as ``save_to_disk`` writes them.

Layouts read: one file; a folder of ``data/{split}-00000-of-00002.parquet``
shards, or ``{config}/{split}-*.parquet`` (several configurations, one must
be chosen by pointing at its folder); the hub's converted
``{config}/{split}/0000.parquet``; ``save_to_disk``'s
``{split}/data-00000-of-00001.arrow``. Images are the columns of the
``datasets`` Image feature (structs of ``bytes`` and ``path``, or lists of
them for a sequence of images), read batch by batch so a 10 GB dataset never
sits in memory.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vlmbench.datasets.importers._records import ImageStore, ImportedSample
from vlmbench.datasets.importers.columns import ColumnMap, resolve_columns, to_sample
from vlmbench.errors import DatasetError, Location

if TYPE_CHECKING:
    import pyarrow as pa

SUFFIXES = (".parquet", ".arrow")
SHARD = re.compile(r"^(?P<split>.+?)-\d{5}-of-\d{5}$")  # the hub's and save_to_disk's shard names
SPLIT_WORDS = {
    "train",
    "training",
    "validation",
    "valid",
    "val",
    "dev",
    "test",
    "testing",
    "testmini",
    "eval",
}
BATCH_ROWS = 256  # rows held at once: a batch of DocVQA pages is ~50 MB


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.ipc  # noqa: F401 - loads the submodule
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise DatasetError("reading parquet needs pyarrow", hint="pip install pyarrow") from None
    return pyarrow


def data_files(source: Path) -> list[Path]:
    """The parquet/arrow files of ``source`` (a file, or a folder searched below)."""
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise DatasetError("file not found", location=Location(source))
    return sorted(
        p
        for p in source.rglob("*")
        if p.suffix in SUFFIXES
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(source).parts)
    )


def config_and_split(path: Path, root: Path) -> tuple[str, str | None]:
    """A file's configuration (its folder below ``root``, less ``data/`` and the split's folder) and split."""
    folders = [] if path == root else list(path.relative_to(root).parent.parts)
    shard = SHARD.match(path.stem)
    if shard and shard["split"] != "data":
        split = shard["split"]
    elif (
        shard or path.stem.isdigit()
    ) and folders:  # {split}/data-00000-of-00001.arrow, {split}/0000.parquet
        split = folders.pop()
    elif path.stem in SPLIT_WORDS:
        split = path.stem
    else:
        split = None
    if folders and folders[-1] == "data":
        folders.pop()
    return "/".join(folders), split


def _batches(path: Path) -> Iterator[pa.RecordBatch]:
    pa = _pyarrow()
    try:
        if path.suffix == ".arrow":
            with pa.memory_map(str(path)) as stream:
                yield from pa.ipc.open_stream(stream)
        else:
            yield from pa.parquet.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS)
    except pa.ArrowException as exc:
        raise DatasetError(f"cannot read it: {exc}", location=Location(path)) from None


def _schema(path: Path) -> pa.Schema:
    pa = _pyarrow()
    try:
        if path.suffix == ".arrow":
            with pa.memory_map(str(path)) as stream:
                return pa.ipc.open_stream(stream).schema
        return pa.parquet.read_schema(path)
    except pa.ArrowException as exc:
        raise DatasetError(f"cannot read it: {exc}", location=Location(path)) from None


def _holds_images(kind: pa.DataType) -> bool:
    pa = _pyarrow()
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return _holds_images(kind.value_type)
    if pa.types.is_struct(kind):
        return kind.get_field_index("bytes") >= 0
    return pa.types.is_binary(kind) or pa.types.is_large_binary(kind)


def image_columns(schema: pa.Schema) -> list[str]:
    """Columns of the Image feature (or lists of it) in schema order; else an ``image``/``images`` of text."""
    typed = [f.name for f in schema if _holds_images(f.type)]
    return typed or [name for name in ("image", "images") if name in schema.names]


class Selected:
    """The files and split an import reads, chosen from what ``source`` holds."""

    def __init__(self, source: Path, split: str | None):
        files = data_files(source)
        if not files:
            raise DatasetError(f"{source}: no .parquet or .arrow files")
        root = source if source.is_dir() else source.parent
        placed = {path: config_and_split(path, root) for path in files}
        configs = sorted({config for config, _ in placed.values()})
        if len(configs) > 1:
            raise DatasetError(
                f"{source} holds several configurations: {', '.join(c or '.' for c in configs)}",
                hint=f"import one folder: vlmbench datasets import hf-parquet {source / configs[-1]} TARGET",
            )
        splits = sorted({s for _, s in placed.values() if s})
        if split is None and len(splits) > 1:
            raise DatasetError(
                f"{source} holds splits {', '.join(splits)}",
                hint=f"choose one: vlmbench datasets import hf-parquet {source} TARGET "
                f"--split {'test' if 'test' in splits else splits[0]}",
            )
        if split is not None and splits and split not in splits:
            raise DatasetError(f"{source} has no split {split!r}", hint=f"its splits: {', '.join(splits)}")
        self.source = source
        self.files = [p for p, (_, s) in placed.items() if split is None or s == split or not splits]
        self.split_of = {p: s for p, (_, s) in placed.items()}
        # Without split files, --split picks rows by the split column instead.
        self.row_split = split if split is not None and not splits else None
        self.schema = _schema(self.files[0])


def _image_bytes(value: Any, base: Path, root: Path, where: Location) -> list[bytes]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [data for item in value for data in _image_bytes(item, base, root, where)]
    if isinstance(value, dict):
        if value.get("bytes"):
            return [value["bytes"]]
        value = value.get("path")
        if not value:
            return []
    if isinstance(value, bytes | bytearray):
        return [bytes(value)]
    path = (base / str(value)).resolve()
    if path.is_relative_to(root.resolve()) and path.is_file():
        return [path.read_bytes()]  # an image stored beside the data files, by path
    try:
        return [base64.b64decode(str(value), validate=True)]
    except (binascii.Error, ValueError):
        raise DatasetError(
            "an image that is neither bytes, base64 nor a file inside the dataset folder", location=where
        ) from None


def _plan(source: Path, split: str | None, overrides: Mapping[str, list[str]]) -> tuple[Selected, ColumnMap]:
    selected = Selected(source, split)
    columns = resolve_columns(selected.schema.names, image_columns(selected.schema), overrides, str(source))
    if selected.row_split and not columns.split:
        raise DatasetError(
            f"{source} has neither split files nor a split column to pick {split!r} from",
            hint="leave out --split to import every row",
        )
    return selected, columns


def check_parquet(source: Path, split: str | None, overrides: Mapping[str, list[str]]) -> None:
    """Everything an import would refuse before reading rows: layout, split, columns."""
    _plan(source, split, overrides)


def read_hf_parquet(
    source: Path,
    store: ImageStore,
    split: str | None = None,
    overrides: Mapping[str, list[str]] | None = None,
) -> Iterator[tuple[Location, ImportedSample]]:
    """The samples of the chosen split, file by file, batch by batch."""
    selected, columns = _plan(source, split, overrides or {})
    root = source if source.is_dir() else source.parent
    count = 0
    for path in selected.files:
        if _schema(path).names != selected.schema.names:
            raise DatasetError(f"its columns differ from {selected.files[0].name}'s", location=Location(path))
        row_number = 0
        for batch in _batches(path):
            for row in batch.to_pylist():
                row_number += 1
                if selected.row_split and str(row.get(columns.split)) != selected.row_split:
                    continue
                count += 1

                def where(column: str, row_number: int = row_number, path: Path = path) -> Location:
                    return Location(path, row_number, column)

                images = [
                    store.add(data)
                    for column in columns.images
                    for data in _image_bytes(row.get(column), path.parent, root, where(column))
                ]
                sample = to_sample(row, columns, images, str(count), selected.split_of[path] or None, where)
                yield Location(path, row_number), sample
