"""`vlmbench build-images`: the project's images, built with live progress.

Each image is built from an assembled context (see :mod:`.context`), its
Python environment from its lock file (see :mod:`.locks`). Every image
builds on the locally made base image when there is one (no registry may be
reachable; the GPU images get CUDA from PyPI's wheels), else on its
Dockerfile's; ``--base`` overrides both. A failed build names the image and
its last lines of output; the other images go on. Each built image's tag,
image id, lock hash, size and build time go into ``image-builds.json`` in
the data home, one entry per tag.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from vlmbench.docker.context import assemble, source_root
from vlmbench.docker.engine import connect, image_exists
from vlmbench.docker.locks import file_sha256, lock_for, lock_path
from vlmbench.docker.names import PROJECT_IMAGES, image_tag

LOCAL_BASE_IMAGE = "vlmbench/base:bookworm"  # made by scripts/make-base-image.sh
# The whole matrix, in build order: the CPU images first, as they are the smaller downloads (the GPU
# ones fetch several GB of CUDA wheels), so a broken lock shows there first.
MATRIX = ("cpu", "vllm-cpu", "transformers-gpu", "vllm")
BUILDS_FILE = "image-builds.json"
STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)")
TAIL_LINES = 15


@dataclass
class BuildResult:
    name: str
    tag: str
    image_id: str | None = None
    error: str | None = None
    seconds: float = 0.0
    lock: str = ""  # images/<name>.lock
    lock_sha256: str = ""
    size: int = 0  # bytes, as the engine counts them (shared layers in full)

    @property
    def ok(self) -> bool:
        return self.error is None


def default_base_image(client, name: str) -> str | None:
    """The locally made base when there is one (the locks are for its Debian); None keeps the Dockerfile's."""
    return LOCAL_BASE_IMAGE if image_exists(client, LOCAL_BASE_IMAGE) else None


def _build_one(client, name: str, tag: str, base_image: str | None, progress: Progress) -> BuildResult:
    import docker

    task = progress.add_task(name, total=None, name=tag, step="assembling the context")
    result, tail, start = BuildResult(name, tag), deque(maxlen=TAIL_LINES), time.monotonic()
    steps = 1
    previous = client.images.get(tag).id if image_exists(client, tag) else None
    with tempfile.TemporaryDirectory(prefix=f"vlmbench-build-{name}-") as folder:
        context = assemble(name, Path(folder))
        lock = lock_path(source_root() / "images", lock_for(name)[0])
        result.lock, result.lock_sha256 = lock.name, file_sha256(lock)
        buildargs = {"BASE_IMAGE": base_image} if base_image else {}
        try:
            for event in client.api.build(path=str(context), tag=tag, buildargs=buildargs, rm=True,
                                          forcerm=True, decode=True):
                if "error" in event:
                    result.error = event["error"].strip()
                    break
                for line in event.get("stream", "").splitlines():
                    if line.strip():
                        tail.append(line.rstrip())
                    if step := STEP.match(line):
                        steps = int(step[2])
                        progress.update(task, completed=int(step[1]) - 1, total=steps, step=step[3][:70])
                if "aux" in event and "ID" in event["aux"]:
                    result.image_id = event["aux"]["ID"]
        except docker.errors.APIError as exc:
            result.error = str(exc.explanation or exc)
    if result.error:
        result.error = f"{result.error}\n" + "\n".join(tail)
    else:
        image = client.images.get(tag)
        result.image_id, result.size = result.image_id or image.id, int(image.attrs.get("Size") or 0)
        if previous and previous != result.image_id:
            _remove_replaced(client, previous)
    result.seconds = time.monotonic() - start
    if result.ok:
        progress.update(task, completed=steps, total=steps, step="[green]built[/]")
    else:
        progress.update(task, step="[red]failed[/]")
    return result


def _remove_replaced(client, image_id: str) -> None:
    """The image the tag pointed to before, unless a container or another tag still uses it.

    Without this every rebuild after a source change would leave a
    gigabyte-sized untagged image behind.
    """
    import docker

    try:
        if not client.images.get(image_id).tags:
            client.images.remove(image_id)
    except docker.errors.APIError:
        pass  # in use: the engine keeps it, as it should


def build_images(names: Sequence[str] = (), base_image: str | None = None, version: str | None = None,
                 console: Console | None = None) -> list[BuildResult]:
    """Build the named project images (all when none are named), one after the other."""
    client = connect()
    names = list(names) or [*MATRIX, *(name for name in PROJECT_IMAGES if name not in MATRIX)]
    columns = (TextColumn("[bold]{task.fields[name]}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TextColumn("{task.fields[step]}"))
    results = []
    with Progress(*columns, console=console or Console(stderr=True)) as progress:
        for name in names:
            tag = image_tag(name, version) if version else image_tag(name)
            results.append(_build_one(client, name, tag, base_image or default_base_image(client, name), progress))
    return results


def builds_file() -> Path:
    from vlmbench.datasets.bundled import data_home

    return data_home() / BUILDS_FILE


def record_builds(results: Sequence[BuildResult], path: Path | None = None) -> Path:
    """Adds the successful builds to the record, replacing each tag's earlier entry; returns its path.

    A locally built image has no registry digest: its id (the digest of its
    configuration, which names every layer's content) is what identifies it.
    """
    path = path or builds_file()
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        entries = {}
    for result in results:
        if result.ok:
            entries[result.tag] = {
                "image_id": result.image_id, "lock": result.lock, "lock_sha256": result.lock_sha256,
                "build_seconds": round(result.seconds, 1), "size_bytes": result.size,
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(json.dumps(entries, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    partial.replace(path)  # whole or not at all, should two builds finish at once
    return path
