"""`vlmbench pull-images`: one pull per distinct image, a progress bar per layer.

The engine reports a pull as a stream of events, one per layer and phase
(waiting, downloading, extracting, complete). Each layer gets a bar that
follows its bytes. A failed pull names the image and the engine's reason
(with a hint to build the project's own images), and the others go on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from vlmbench.docker.engine import connect
from vlmbench.docker.names import how_to_get, project_image_name, split_tag

DONE_STATES = ("Pull complete", "Already exists", "Download complete")


@dataclass
class PullResult:
    image: str
    error: str | None = None
    digest: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class LayerBars:
    """Turns one image's pull events into rich bars, one per layer."""

    def __init__(self, progress: Progress, image: str):
        self.progress = progress
        self.image = image
        self.layers: dict[str, TaskID] = {}
        self.totals: dict[str, float] = {}  # bytes of the phase under way, per layer
        self.digest: str | None = None
        self.error: str | None = None

    def _task(self, layer: str) -> TaskID:
        if layer not in self.layers:
            self.layers[layer] = self.progress.add_task(layer, total=None, name=f"{self.image} {layer[:12]}",
                                                        state="waiting")
        return self.layers[layer]

    def feed(self, event: Mapping[str, Any]) -> None:
        if "error" in event:
            self.error = (event.get("errorDetail") or {}).get("message") or str(event["error"])
            return
        status, layer = str(event.get("status", "")), event.get("id")
        if status.startswith("Digest: "):
            self.digest = status.removeprefix("Digest: ").strip()
        if not layer or status.startswith("Pulling from"):
            return  # image-level lines: "Pulling from …", "Digest: …", "Status: …"
        task = self._task(layer)
        detail = event.get("progressDetail") or {}
        if status in DONE_STATES:
            total = self.totals.get(layer) or 1
            self.progress.update(task, completed=total, total=total, state=status.lower())
        elif detail.get("total"):
            self.totals[layer] = detail["total"]
            self.progress.update(task, completed=detail.get("current", 0), total=detail["total"],
                                 state=status.lower())
        else:
            self.progress.update(task, state=status.lower())


def _pull_one(client, image: str, progress: Progress) -> PullResult:
    import docker

    repository, tag = split_tag(image)
    bars = LayerBars(progress, image)
    try:
        for event in client.api.pull(repository, tag=tag, stream=True, decode=True):
            bars.feed(event)
            if bars.error:
                break
    except docker.errors.DockerException as exc:
        bars.error = str(getattr(exc, "explanation", None) or exc)
    if bars.error and project_image_name(image):
        bars.error += f" — {how_to_get(image)}"
    return PullResult(image, bars.error, bars.digest)


def pull_images(images: Iterable[str], console: Console | None = None) -> list[PullResult]:
    """Pull each distinct image once, in order; failures are returned, not raised."""
    client = connect()
    distinct = list(dict.fromkeys(filter(None, images)))
    columns = (TextColumn("{task.fields[name]}"), BarColumn(), DownloadColumn(), TextColumn("{task.fields[state]}"),
               TimeElapsedColumn())
    results = []
    with Progress(*columns, console=console or Console(stderr=True)) as progress:
        for image in distinct:
            results.append(_pull_one(client, image, progress))
    return results
