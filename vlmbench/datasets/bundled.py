"""Datasets vlmbench can make offline, where they live, and what a run CSV's ``dataset`` names.

A bundled set is made on first use into ``data_home()/NAME``: built in a
hidden temporary folder beside it, then renamed into place, so a reader
never sees half a dataset and two processes making it at once both end up
with one complete copy.
"""

from __future__ import annotations

import os
import pkgutil
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vlmbench import dataroot
from vlmbench.csvfiles import shorten
from vlmbench.datasets.folder import folder_of, holds_annotation
from vlmbench.errors import DatasetError
from vlmbench.fileio import expand_user, os_reason
from vlmbench.suggest import did_you_mean

Progress = Callable[[int, int], None]  # (done, total)


@dataclass(frozen=True)
class BundledDataset:
    """A dataset vlmbench builds itself; ``builder`` is imported only when it is made."""

    name: str
    description: str
    builder: str  # "module:function", called as function(target, progress=..., **options) -> sample count
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return data_home() / self.name

    def is_made(self) -> bool:
        return holds_annotation(self.path)

    def build(self, target: Path, progress: Progress | None = None) -> int:
        return pkgutil.resolve_name(self.builder)(target, progress=progress, **self.options)


def _bundle(*sets: BundledDataset) -> dict[str, BundledDataset]:
    return {s.name: s for s in sets}


BUNDLED: dict[str, BundledDataset] = _bundle(
    BundledDataset(
        "synthetic-docs-ru",
        "Synthetic Russian invoices, specimen ID forms and receipts: full text, fields, JSON",
        "vlmbench.datasets.synthetic:write_synthetic",
        {"language": "ru"},
    ),
    BundledDataset(
        "synthetic-docs-en",
        "Synthetic English invoices, specimen ID forms and receipts: full text, fields, JSON",
        "vlmbench.datasets.synthetic:write_synthetic",
        {"language": "en"},
    ),
    BundledDataset(
        "easy-vqa",
        "easy-VQA test split: shape, colour and yes/no questions about simple drawings",
        "vlmbench.datasets.easyvqa:write_easy_vqa",
        {"split": "test"},
    ),
    BundledDataset(
        "easy-vqa-train",
        "easy-VQA train split (for fine-tuning a small model, not for scoring)",
        "vlmbench.datasets.easyvqa:write_easy_vqa",
        {"split": "train"},
    ),
)


def data_home() -> Path:
    """Where bundled datasets are made: ``$VLMBENCH_DATA_DIR``, else ``~/.cache/vlmbench/datasets``."""
    configured = os.environ.get("VLMBENCH_DATA_DIR")
    if configured:
        # Absolute, because the path is written into job files read from other directories.
        return expand_user(configured).absolute()
    return Path.home() / ".cache" / "vlmbench" / "datasets"


def _unknown(name: str, data_root: Path | None = None, task: str | None = None,
             base_dir: Path | None = None) -> DatasetError:
    found = dataroot.known_datasets(data_root, task) if data_root else []
    suggestion = did_you_mean(name, [*found, *BUNDLED], cutoff=0.5)
    suggestion += " " if suggestion else ""
    where = (f"nor under the data root's {dataroot.DATASETS[0]}/{task or '*'}/ ({data_root})" if data_root
             else f"(for a VLMHyperBench dataset name, {dataroot.root_hint(base_dir)})")
    return DatasetError(
        f"{name!r} is neither a dataset folder nor a bundled dataset {where}",
        hint=f"{suggestion}bundled datasets: {', '.join(BUNDLED)}",
    )


def get_bundled(name: str) -> BundledDataset:
    """The bundled dataset called ``name``; an unknown name lists the known ones."""
    if name not in BUNDLED:
        raise _unknown(name)
    return BUNDLED[name]


def make_bundled(name: str, force: bool = False, progress: Progress | None = None) -> Path:
    """Make a bundled dataset (unless made and not ``force``) and return its folder."""
    bundled = get_bundled(name)
    target = bundled.path
    if bundled.is_made() and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{name}.building-", dir=target.parent))
    try:
        bundled.build(building, progress)
        building.chmod(0o755)  # mkdtemp makes it 0700; a container user must read it
        if target.exists() and force:
            # Move the old copy aside first: rename cannot replace a non-empty folder.
            old = Path(tempfile.mkdtemp(prefix=f".{name}.old-", dir=target.parent))
            os.replace(target, old / name)
            shutil.rmtree(old, ignore_errors=True)
        try:
            os.rename(building, target)
        except OSError:
            if not bundled.is_made():
                raise
            # Another process finished the same set first; its copy is as good as ours.
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return target


def _imported(path: Path, make: bool) -> Path | None:
    """A peer file or folder's import into the data folder (importers/cache.py); None for anything else."""
    from vlmbench.datasets.importers.cache import import_on_first_use  # it imports this module

    return import_on_first_use(path, make)


def resolve_dataset(ref: str, base_dir: Path | None = None, make: bool = True, data_root: Path | None = None,
                    task: str | None = None) -> Path:
    """Turn a run CSV's ``dataset`` value into a dataset folder.

    An existing folder wins (relative to ``base_dir``, then the working
    directory), so a user's folder named like a bundled set is never
    shadowed; then a name in ``data_root``'s VLMHyperBench layout
    (``Datasets/<task>/<name>``, see vlmbench.dataroot); otherwise a bundled
    name, made on first use when ``make`` (else its future path is returned).
    """
    ref = ref.strip()
    if not ref:
        raise DatasetError("empty dataset name", hint=f"give a folder or one of: {', '.join(BUNDLED)}")
    try:
        return _resolve(ref, base_dir, make, data_root, task)
    except (OSError, ValueError) as exc:  # a name too long, a folder not readable, a NUL byte
        raise DatasetError(f"dataset {shorten(ref)} cannot be used: {os_reason(exc)}",
                           hint="name a dataset folder, or a bundled dataset") from None


def _resolve(ref: str, base_dir: Path | None, make: bool, data_root: Path | None, task: str | None) -> Path:
    given = expand_user(ref)
    if given.is_absolute():
        candidates = [given]
    else:
        candidates = [Path(base_dir) / given] if base_dir is not None else []
        candidates.append(Path.cwd() / given)
    for candidate in candidates:
        candidate = folder_of(candidate)
        imported = _imported(candidate, make)  # a .tsv/.parquet/.arrow file, an imagefolder or parquet folder
        if imported is not None:
            return imported
        if candidate.is_dir():
            return candidate.resolve()
    if data_root is not None:
        found = next((c for c in dataroot.candidates(data_root, dataroot.DATASETS, ref, task)
                      if holds_annotation(c)), None)
        if found:
            return found.resolve()
    if ref in BUNDLED:
        bundled = BUNDLED[ref]
        if bundled.is_made() or not make:
            return bundled.path  # where it will be made; checking a run must not make it
        return make_bundled(ref)
    if "/" in ref or os.sep in ref or ref.startswith((".", "~")):
        tried = ", ".join(str(c) for c in candidates)
        raise DatasetError(
            f"dataset folder not found: {ref} (looked at {tried})",
            hint=f"or name a bundled dataset: {', '.join(BUNDLED)}",
        )
    raise _unknown(ref, data_root, task, base_dir)
