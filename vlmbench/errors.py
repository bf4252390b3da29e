"""The one exception hierarchy of vlmbench.

Every error a user can cause (a bad file, an unknown model, a missing
dataset) is a :class:`VlmbenchError`. The CLI prints its message alone, one
line per problem, and exits with code 2; any other exception is a bug and
keeps its traceback.
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


class DatasetError(VlmbenchError):
    """A dataset folder is missing, malformed or points outside itself."""


class ModelLoadError(VlmbenchError):
    """A model's weights or runtime cannot be loaded."""


class JobSpecError(VlmbenchError):
    """A job.json this worker cannot run (bad schema or version)."""


class ExecutorError(VlmbenchError):
    """An executor cannot start jobs (engine missing, image missing, ...)."""


class RunDirInUseError(VlmbenchError):
    """Another live vlmbench process (a run, an evaluate, a cleanup) holds the run directory's lock."""
