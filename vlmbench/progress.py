"""Progress of a run: one rich bar per job, fed from predictions.jsonl.

Counting lines of the predictions file works the same whether the worker
is a subprocess, a container or a Slurm job on a shared path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class ProgressSink(Protocol):
    def start(self, job_id: str, label: str, total: int) -> None: ...
    def advance_to(self, job_id: str, done: int) -> None: ...
    def finish(self, job_id: str, state: str) -> None: ...


class LineCounter:
    """Counts complete lines of a growing file, reading only what is new."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self.lines = 0

    def count(self) -> int:
        try:
            with self.path.open("rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
        except FileNotFoundError:
            return self.lines
        if chunk:
            complete = chunk.rfind(b"\n") + 1  # leave a torn tail for the next read
            self.lines += chunk.count(b"\n", 0, complete)
            self.offset += complete
        return self.lines


STATE_STYLE = {"done": "green", "failed": "red", "interrupted": "yellow", "running": "cyan", "pending": "dim"}


class RichRunProgress:
    """A bar per job with samples done, rate and time left."""

    def __init__(self, console: Console | None = None):
        self.progress = Progress(
            TextColumn("[bold]{task.fields[label]}", justify="left"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[{task.fields[style]}]{task.fields[state]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> RichRunProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def pause(self) -> None:
        """Stop redrawing, so that a question can be asked on the terminal."""
        self.progress.stop()

    def start(self, job_id: str, label: str, total: int) -> None:
        self.tasks[job_id] = self.progress.add_task(label, total=total, label=label, state="running", style="cyan")

    def advance_to(self, job_id: str, done: int) -> None:
        self.progress.update(self.tasks[job_id], completed=done)

    def finish(self, job_id: str, state: str) -> None:
        self.progress.update(self.tasks[job_id], state=state, style=STATE_STYLE.get(state, "white"))


class SilentProgress:
    def start(self, job_id: str, label: str, total: int) -> None:
        pass

    def advance_to(self, job_id: str, done: int) -> None:
        pass

    def finish(self, job_id: str, state: str) -> None:
        pass
