"""The build context of one project image, assembled in a temporary folder.

Only what the Dockerfile copies goes in: the image's own folder, its
variant's lines of its lock file (common.lock, variant.lock: see
:mod:`.locks`), the package metadata, the package source, and local
wheels. A small context sends fast, and the engine's layer cache (content checksums, not file
times) keeps every unchanged layer however often the folder is remade.
"""

from __future__ import annotations

import os
import shutil
import tomllib
from pathlib import Path

from vlmbench.docker.locks import lock_for, lock_path, split_lock
from vlmbench.docker.names import PROJECT_IMAGES, images_dir
from vlmbench.errors import ExecutorError

# Wheels taken from $PIP_FIND_LINKS into the context's wheels/ folder, by
# image: the CPU image gets a CPU torch build instead of PyPI's CUDA one.
LOCAL_WHEELS: dict[str, tuple[str, ...]] = {"cpu": ("torch-*+cpu-cp311-*.whl",),
                                            "vllm-cpu": ("torch-*+cpu-cp311-*.whl",)}
SOURCE_FILES = ("pyproject.toml", "README.md")
# Extras of vlmbench that go into every image: the worker's optional backends.
IMAGE_EXTRAS = ("ocr",)
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".pytest_cache")


def source_root() -> Path:
    """The checkout holding images/, pyproject.toml and vlmbench/."""
    folder = images_dir()
    if folder is None:
        raise ExecutorError("building images needs vlmbench's source tree (its images/ folder)",
                            hint="run from a git checkout of vlmbench installed with `pip install -e .`")
    return folder.parent


def dockerfile_dir(name: str) -> Path:
    folder = source_root() / "images" / name
    if not (folder / "Dockerfile").is_file():
        raise ExecutorError(f"no image named {name!r}", hint=f"the project's images: {', '.join(PROJECT_IMAGES)}")
    return folder


def local_wheels(name: str, find_links: str | None = None) -> list[Path]:
    """The wheels for this image found in $PIP_FIND_LINKS (folders, separated like PATH)."""
    find_links = os.environ.get("PIP_FIND_LINKS", "") if find_links is None else find_links
    found: list[Path] = []
    for folder in filter(None, find_links.replace(",", " ").replace(os.pathsep, " ").split()):
        for pattern in LOCAL_WHEELS.get(name, ()):
            found += sorted(Path(folder).glob(pattern))[-1:]  # the newest of each
    return found


def requirements(pyproject: Path, extras: tuple[str, ...] = ()) -> list[str]:
    """vlmbench's dependencies, the image extras and `extras`, as pip requirement lines (the locks hold them)."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    optional = project.get("optional-dependencies", {})
    return [*project.get("dependencies", []),
            *(req for extra in (*IMAGE_EXTRAS, *extras) for req in optional.get(extra, []))]


def assemble(name: str, target: Path, find_links: str | None = None) -> Path:
    """Fill `target` with the build context of image `name`; returns `target`."""
    root = source_root()
    shutil.copytree(dockerfile_dir(name), target, dirs_exist_ok=True, ignore=IGNORED)
    # Two files, so that a change to the shared pins keeps the torch layer before it cached.
    spec, variant = lock_for(name)
    parts = split_lock(lock_path(root / "images", spec).read_text(encoding="utf-8"))
    (target / "variant.lock").write_text(parts[variant])
    (target / "common.lock").write_text(parts["common"])
    for file in SOURCE_FILES:
        if (root / file).is_file():
            shutil.copy2(root / file, target / file)
    shutil.copytree(root / "vlmbench", target / "vlmbench", ignore=IGNORED, dirs_exist_ok=True)
    wheels = target / "wheels"
    wheels.mkdir(exist_ok=True)
    (wheels / ".keep").touch()  # COPY wheels/ needs the folder even when it is empty
    for wheel in local_wheels(name, find_links):
        # A hard link when the filesystem allows: the torch wheel is 200 MB.
        try:
            os.link(wheel, wheels / wheel.name)
        except OSError:
            shutil.copy2(wheel, wheels / wheel.name)
    return target
