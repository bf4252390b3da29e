"""The one exception hierarchy of vlmbench.

Every error a user can cause (a bad file, an unknown model, a missing
dataset) is a :class:`VlmbenchError`, and every such class lives here. The
CLI prints its message alone, one line per problem, and exits with code 2;
any other exception is a bug and keeps its traceback (in a worker: in the
job's worker.log, while the job's status says one line). Each class names
the failure class a job that ends with it gets in status.json
(:attr:`VlmbenchError.failure_class`; see executors.base for the others).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Location:
    """Where in a user's file a problem sits; row 1 is the first data row."""

    file: str | Path
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        parts = [str(self.file)]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where, what, and what would be right."""

    message: str
    location: Location | None = None
    hint: str | None = None

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        return f"{text} ({self.hint})" if self.hint else text


class VlmbenchError(Exception):
    """A failure the user can fix; its text is written for them."""

    exit_code = 2
    #: What a job that ends with this error failed of (rundir.records.FailureClass): the user's input by default.
    failure_class = "bad-input"

    def __init__(self, message: str, hint: str | None = None, location: Location | None = None):
        self.problems = [Problem(message, location, hint)]
        super().__init__(str(self.problems[0]))

    @classmethod
    def from_problems(cls, problems: list[Problem]) -> VlmbenchError:
        error = cls(problems[0].message, problems[0].hint, problems[0].location)
        error.problems = list(problems)
        error.args = ("\n".join(str(p) for p in problems),)
        return error

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


class ConfigError(VlmbenchError):
    """The run CSV is malformed or names things that do not exist."""


class CatalogError(VlmbenchError):
    """A model catalog is malformed, or a model is not in it."""


class RegistryError(VlmbenchError):
    """A model class cannot be found, imported or is not a model."""

    failure_class = "model-load"


class DatasetError(VlmbenchError):
    """A dataset folder is missing, malformed or points outside itself."""


class ModelLoadError(VlmbenchError):
    """A model's weights or runtime cannot be loaded."""

    failure_class = "model-load"


class ServerStartError(ModelLoadError):
    """A model's server exited or never became healthy; the message carries its last log lines."""

    def __init__(self, message: str, hint: str | None = None, port_in_use: bool = False) -> None:
        super().__init__(message, hint=hint)
        self.port_in_use = port_in_use


class EndpointError(VlmbenchError):
    """An OpenAI-compatible endpoint refused or failed a request (after any retries)."""

    failure_class = "model-error"

    def __init__(self, message: str, hint: str | None = None, status: int | None = None, attempts: int = 1):
        super().__init__(message, hint=hint)
        self.status = status
        self.attempts = attempts


class JobSpecError(VlmbenchError):
    """A job.json this worker cannot run (bad schema or version): the host and the worker's image disagree."""

    failure_class = "infrastructure"


class ExecutorError(VlmbenchError):
    """An executor cannot start jobs (engine missing, image missing, ...)."""

    failure_class = "infrastructure"


class InfrastructureError(ExecutorError):
    """A failure of what runs the job, not of the job, that may pass: the engine or the Slurm controller
    did not answer, refused to create or start a container, sbatch failed. Retried (executors.base)."""


class MetricError(VlmbenchError):
    """An unknown metric or aggregator name, or a metric that cannot be computed."""


class ReportError(VlmbenchError):
    """A results file cannot be read or a report cannot be written."""


class RunDirError(VlmbenchError):
    """A file in a run directory that does not hold what vlmbench wrote there (corrupt, foreign, too new)."""


class RunDirInUseError(VlmbenchError):
    """Another live vlmbench process (a run, an evaluate, a cleanup) holds the run directory's lock."""


class CompareError(VlmbenchError):
    """Jobs that cannot be compared sample by sample (different samples), or a model the runs do not hold."""
