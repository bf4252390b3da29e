"""`vlmbench build-images`: the project's images, built with live progress.

Each image is built from an assembled context (see :mod:`.context`). The
CPU images (cpu, vllm-cpu) build on the locally made base image when there
is one (no registry may be reachable); the GPU images on their Dockerfile's CUDA
base; ``--base`` overrides both. A failed build
names the image and its last lines of output; the other images go on.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from vlmbench.docker.context import assemble
from vlmbench.docker.engine import connect, image_exists
from vlmbench.docker.names import PROJECT_IMAGES, image_tag

LOCAL_BASE_IMAGE = "vlmbench/base:bookworm"  # made by scripts/make-base-image.sh
# Images that build on plain Debian: the GPU ones keep their CUDA base unless told otherwise.
ON_LOCAL_BASE = ("cpu", "vllm-cpu")
STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)")
TAIL_LINES = 15


@dataclass
class BuildResult:
    name: str
    tag: str
    image_id: str | None = None
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def default_base_image(client, name: str) -> str | None:
    """The locally made base for images that run on plain Debian; None keeps the Dockerfile's."""
    return LOCAL_BASE_IMAGE if name in ON_LOCAL_BASE and image_exists(client, LOCAL_BASE_IMAGE) else None


def _build_one(client, name: str, tag: str, base_image: str | None, progress: Progress) -> BuildResult:
    import docker

    task = progress.add_task(name, total=None, name=tag, step="assembling the context")
    result, tail, start = BuildResult(name, tag), deque(maxlen=TAIL_LINES), time.monotonic()
    steps = 1
    previous = client.images.get(tag).id if image_exists(client, tag) else None
    with tempfile.TemporaryDirectory(prefix=f"vlmbench-build-{name}-") as folder:
        context = assemble(name, Path(folder))
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
        result.image_id = result.image_id or client.images.get(tag).id
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
    names = list(names) or list(PROJECT_IMAGES)
    columns = (TextColumn("[bold]{task.fields[name]}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TextColumn("{task.fields[step]}"))
    results = []
    with Progress(*columns, console=console or Console(stderr=True)) as progress:
        for name in names:
            tag = image_tag(name, version) if version else image_tag(name)
            results.append(_build_one(client, name, tag, base_image or default_base_image(client, name), progress))
    return results
