"""A run CSV's ``dataset`` naming a peer file (a .tsv, .parquet or .arrow, an imagefolder or parquet folder).

It is imported on first use into ``data_home()/imported/<name>-<key>``,
keyed by its content, so an edited file is imported again and an unchanged
one never is. An import that needs a choice (a split, a column) is refused
with the ``vlmbench datasets import`` command that makes it.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from vlmbench.datasets.bundled import data_home
from vlmbench.datasets.folder import holds_annotation, scan_files
from vlmbench.datasets.importers import check_import, detect_format, import_dataset
from vlmbench.datasets.importers.hf_parquet import SUFFIXES
from vlmbench.datasets.importers.imagefolder import METADATA_FILES
from vlmbench.errors import DatasetError

IMPORTED = "imported"
_KEYS: dict[tuple[Path, int, int], str] = {}  # (file, size, mtime_ns) -> content hash, per process


def _file_hash(path: Path) -> str:
    stat = path.stat()
    key = (path, stat.st_size, stat.st_mtime_ns)
    if key not in _KEYS:
        with path.open("rb") as handle:
            _KEYS[key] = hashlib.file_digest(handle, "sha256").hexdigest()
    return _KEYS[key]


def content_key(source: Path) -> str:
    """A short hash of what an import of ``source`` reads.

    A folder's data and metadata files are hashed whole; its images by path
    and size only, as dataset_fingerprint does: hashing 10k images would
    cost seconds on every run.
    """
    if source.is_file():
        return _file_hash(source)[:16]
    digest = hashlib.sha256()
    for relative, size in sorted(scan_files(source).items()):
        whole = relative.endswith(SUFFIXES) or Path(relative).name in METADATA_FILES
        digest.update(f"{relative}\0{_file_hash(source / relative) if whole else size}\n".encode())
    return digest.hexdigest()[:16]


def import_on_first_use(source: Path, make: bool = True) -> Path | None:
    """The cached import of ``source``, made when ``make``; None when ``source`` is no peer file or folder.

    Without ``make`` (checking a run) nothing is imported: what the import
    would refuse is raised, and the folder it would fill is returned.
    """
    kind = detect_format(source)
    if kind is None:
        return None
    source = source.resolve()
    name = re.sub(r"[^\w.-]+", "_", source.stem if source.is_file() else source.name)
    target = data_home() / IMPORTED / f"{name}-{content_key(source)}"
    if holds_annotation(target):
        return target
    try:
        check_import(kind, source)
        if make:
            import_dataset(kind, source, target)
    except DatasetError as exc:
        if holds_annotation(target):
            return target  # another process imported it first
        problem = exc.problems[0]
        hint = (
            f"{problem.hint}, then name TARGET in the dataset column"
            if problem.hint and "TARGET" in problem.hint
            else problem.hint
        )
        detail = f"{problem.location}: {problem.message}" if problem.location else problem.message
        raise DatasetError(f"importing {source} on first use: {detail}", hint=hint) from None
    return target
