"""Names in a run CSV looked up in VLMHyperBench's data folder layout.

VLMHyperBench keeps its data under one folder (``vlmhyperbench/data_dirs``
in its repository, named in its ``VLMHyperBench_config.json``) and its run
CSVs name things inside it:

- ``dataset`` ``demo_mini`` with ``task`` ``VQA``: ``Datasets/VQA/demo_mini/``;
- ``prompt_collection`` ``demo_mini/prompts.csv``: ``PromptCollections/VQA/demo_mini/prompts.csv``
  (before March 2025: ``PromptCollection/prompts.csv``, no task folder);
- ``system_prompt`` ``1.txt``: ``SystemPrompts/1.txt``.

The root is ``--data-root`` or ``$VLMBENCH_DATA_ROOT``. A run CSV without a
``task`` column (VLMHyperBench's first versions) finds a dataset in any one
task folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from vlmbench.fileio import expand_user

DATA_ROOT_ENV = "VLMBENCH_DATA_ROOT"
DATASETS = ("Datasets",)
PROMPT_COLLECTIONS = ("PromptCollections", "PromptCollection")
SYSTEM_PROMPTS = ("SystemPrompts",)


def data_root(option: Path | None) -> Path | None:
    """The root a run looks names up in: the option, else the environment variable; absolute,
    since paths found under it are written into job files read from other directories."""
    given = option or os.environ.get(DATA_ROOT_ENV) or None
    return expand_user(given).absolute() if given else None


def root_hint(base_dir: Path | None) -> str:
    """How to name a root: with the folder to name when the run CSV sits in a VLMHyperBench checkout."""
    hint = f"give the folder holding {DATASETS[0]}/ with --data-root or ${DATA_ROOT_ENV}"
    for relative in ("vlmhyperbench/data_dirs", "vlmhyperbench"):  # their layout since March 2025, and before
        if base_dir is not None and (base_dir / relative / DATASETS[0]).is_dir():
            return f"{hint}: --data-root {base_dir / relative}"
    return hint


def candidates(root: Path, folders: tuple[str, ...], name: str, task: str | None) -> list[Path]:
    """Where ``name`` may sit under ``root``, in the order looked at; for error messages too."""
    found: list[Path] = []
    for folder in (root / f for f in folders):
        if task:
            found.append(folder / task / name)
        found.append(folder / name)
        if not task and folder.is_dir():
            found += sorted(sub / name for sub in folder.iterdir() if sub.is_dir())
    return found


def known_datasets(root: Path, task: str | None) -> list[str]:
    """The dataset folder names under ``root`` (in the task's folder, else in any), for suggestions."""
    folder = root / DATASETS[0]
    bases = [folder / task] if task else [folder, *(p for p in folder.glob("*") if p.is_dir())]
    return sorted({p.name for base in bases if base.is_dir() for p in base.iterdir()
                   if p.is_dir() and not p.name.startswith(".")})


def known_files(root: Path, folders: tuple[str, ...], task: str | None) -> list[str]:
    """The files of small folders (prompts) under ``root``, named as a run CSV would name them."""
    names: set[str] = set()
    for folder in (root / f for f in folders if (root / f).is_dir()):
        base = folder / task if task and (folder / task).is_dir() else folder
        names.update(p.relative_to(base).as_posix() for p in base.rglob("*")
                     if p.is_file() and not p.name.startswith("."))
    return sorted(names)
