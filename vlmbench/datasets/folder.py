"""What a dataset folder holds: its annotation file, its files, and a fingerprint of them.

The folder is listed once per load; the listing serves both the image
path checks and the fingerprint, so a large folder is walked only once.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

ANNOTATION_CSV = "annotation.csv"
ANNOTATIONS_JSONL = "annotations.jsonl"
# In the order a folder is searched; a folder must hold exactly one of them.
ANNOTATION_FILES = (ANNOTATION_CSV, ANNOTATIONS_JSONL)


def folder_of(path: Path) -> Path:
    """The folder itself, or the folder of a given annotation file (users point at either)."""
    if path.is_file() and path.name in ANNOTATION_FILES:
        return path.parent
    return path


def holds_annotation(folder: Path) -> bool:
    """Whether ``folder`` has an annotation file, i.e. looks like a made dataset."""
    return any((folder / name).is_file() for name in ANNOTATION_FILES)


def scan_files(root: Path) -> dict[str, int]:
    """Relative posix path -> size of every non-hidden file under ``root``.

    Symlinked directories are not entered (a link cycle must not hang a
    load); symlinked files are listed with their target's size, or -1 when
    dangling, and are told apart by the caller through a real path check.
    FIFOs, sockets and devices are not listed: reading one blocks or never ends.
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
                elif entry.is_file(follow_symlinks=False):  # not a FIFO, socket or device: no data there
                    found[rel] = entry.stat(follow_symlinks=False).st_size
    return found


def fingerprint_files(root: Path, files: dict[str, int]) -> str:
    """The fingerprint of a folder already listed by :func:`scan_files`."""
    # Sizes, not image bytes: hashing 10k images would cost seconds per run,
    # while an edited annotation (the common change) is hashed in full.
    digest = hashlib.sha256()
    for name in ANNOTATION_FILES:
        if name in files:
            digest.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
    for rel in sorted(files):
        digest.update(f"{rel}\0{files[rel]}\n".encode())
    return digest.hexdigest()[:16]


def dataset_fingerprint(root: Path) -> str:
    """A short sha256 of the annotation bytes and every file's relative path and size."""
    root = Path(root)
    return fingerprint_files(root, scan_files(root))
