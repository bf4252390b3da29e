"""One job split into shards: which samples and which GPUs each shard takes.

A job of K shards runs K workers side by side (processes, containers or
Slurm tasks). Shard i of K takes every K-th of the job's selected samples,
starting at the i-th: disjoint, together all of them, and the same on every
run, so a rerun resumes each shard where it stopped. Sharding changes how
fast answers come, never which: it is not part of the job id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from vlmbench.errors import ConfigError

T = TypeVar("T")

#: More shards than this is a typo, not a plan (each is a process or a container).
MAX_SHARDS = 256


@dataclass(frozen=True, order=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if not 1 <= self.index <= self.count:
            raise ValueError(f"shard {self.index} of {self.count}")

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def name(self) -> str:
        """A file-name-safe form: ``2-of-4``."""
        return f"{self.index}-of-{self.count}"

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"2/4"`` → Shard(2, 4); a ConfigError saying the form otherwise."""
        index, _, count = text.strip().partition("/")
        try:
            return cls(int(index), int(count))
        except ValueError:
            raise ConfigError(f"bad shard {text!r}", hint="write INDEX/COUNT, e.g. 1/2 (1-based)") from None

    @classmethod
    def all_of(cls, count: int) -> list[Shard]:
        return [cls(index, count) for index in range(1, count + 1)]

    def take(self, items: Sequence[T]) -> list[T]:
        """This shard's part of ``items`` (in their order)."""
        return list(items[self.index - 1::self.count])

    def devices(self, devices: Sequence[str]) -> tuple[str, ...]:
        """This shard's part of a row's exact devices: an equal, contiguous share (see check_devices)."""
        per = len(devices) // self.count
        return tuple(devices[(self.index - 1) * per:self.index * per])


def devices_problem(devices: Sequence[str], count: int) -> str | None:
    """Why ``count`` shards cannot split these exact devices evenly, if they cannot."""
    if count > 1 and devices and len(devices) % count:
        return (f"{len(devices)} GPU(s) named for {count} shards: each shard needs its own, "
                f"so name a multiple of {count} GPUs or use --gpus as a pool")
    return None


__all__ = ["MAX_SHARDS", "Shard", "devices_problem"]
