"""Progress of a run: one rich bar per job, fed from predictions.jsonl.

Counting lines of the predictions file works the same whether the worker
is a subprocess, a container or a Slurm job on a shared path.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, Self

if TYPE_CHECKING:  # every executor imports this module for LineCounter; only `vlmbench run` draws bars
    from rich.console import Console
    from rich.progress import TaskID


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


class RunTally:
    """The whole run's samples: what is left of the jobs still to run, and what this run has done of them.

    A resumed job's predictions file already holds lines when its worker starts; they count neither as
    work left nor as work done now, so the overall rate (and the time left) is this run's own.
    """

    def __init__(self, planned: Mapping[str, int]):
        self.totals = dict(planned)  # job id -> samples to answer
        self.already: dict[str, int] = {}  # job id -> lines its predictions held when it was first seen
        self.done: dict[str, int] = {}

    def start(self, job_id: str, total: int) -> None:
        self.totals[job_id] = total

    def advance_to(self, job_id: str, done: int) -> None:
        self.already.setdefault(job_id, done)
        self.done[job_id] = done

    @property
    def total(self) -> int:
        return sum(total - self.already.get(job_id, 0) for job_id, total in self.totals.items())

    @property
    def completed(self) -> int:
        return sum(done - self.already[job_id] for job_id, done in self.done.items())


class RichRunProgress:
    """A bar per job with samples done, rate and time left; above them, with two or more jobs planned, the
    whole run's bar and time left (`planned`: job id -> samples, of the jobs that will run)."""

    OVERALL = "all jobs"

    def __init__(self, console: Console | None = None, planned: Mapping[str, int] | None = None):
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

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
        self.tally = RunTally(planned or {})
        self.overall: TaskID | None = None
        if len(self.tally.totals) >= 2:
            label = f"{self.OVERALL} ({len(self.tally.totals)})"
            self.overall = self.progress.add_task(label, total=self.tally.total, label=label, state="running",
                                                  style="cyan")

    def _update_overall(self) -> None:
        if self.overall is not None:
            total, completed = self.tally.total, self.tally.completed
            state, style = ("done", "green") if completed >= total else ("running", "cyan")
            self.progress.update(self.overall, total=total, completed=completed, state=state, style=style)

    def __enter__(self) -> Self:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def pause(self) -> None:
        """Stop redrawing, so that a question can be asked on the terminal."""
        self.progress.stop()

    def start(self, job_id: str, label: str, total: int) -> None:
        self.tasks[job_id] = self.progress.add_task(label, total=total, label=label, state="running", style="cyan")
        self.tally.start(job_id, total)
        self._update_overall()

    def advance_to(self, job_id: str, done: int) -> None:
        self.progress.update(self.tasks[job_id], completed=done)
        self.tally.advance_to(job_id, done)
        self._update_overall()

    def finish(self, job_id: str, state: str) -> None:
        self.progress.update(self.tasks[job_id], state=state, style=STATE_STYLE.get(state, "white"))
        if state != "done":  # a failed or stopped job's unanswered samples are no longer work left
            self.tally.totals[job_id] = self.tally.done.get(job_id, 0)
            self._update_overall()


class SilentProgress:
    def start(self, job_id: str, label: str, total: int) -> None:
        pass

    def advance_to(self, job_id: str, done: int) -> None:
        pass

    def finish(self, job_id: str, state: str) -> None:
        pass
