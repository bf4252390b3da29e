"""Which GPUs each worker gets (a process, a container, a shard), so that parallel ones never share one
unless asked.

Two ways to give a job GPUs:

* the run CSV's ``gpus`` cell names the job's devices exactly (``0|1`` for a
  model split over two GPUs); the job waits until all of them are free;
* ``vlmbench run --gpus 0,1`` is a pool: a job whose row names none takes
  one free GPU from it, so ``--jobs 2 --gpus 0,1`` runs two jobs side by side.

A device written ``0:shared`` may be held by several jobs that all say
``shared`` (small models that fit together), never at once with a job that
holds it alone.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from vlmbench.errors import ConfigError

SHARED_SUFFIX = ":shared"
WAIT_STEP_S = 0.2


@dataclass(frozen=True)
class GpuRequest:
    """What one job asks for: exact devices, or one device out of a pool."""

    devices: tuple[str, ...] = ()
    pool: tuple[str, ...] = ()
    shared: bool = False

    @property
    def wants_gpu(self) -> bool:
        return bool(self.devices or self.pool)


def _parse(entries: Sequence[str]) -> tuple[tuple[str, ...], bool]:
    devices, shared = [], False
    for entry in entries:
        entry = entry.strip()
        if entry.endswith(SHARED_SUFFIX):
            entry, shared = entry.removesuffix(SHARED_SUFFIX), True
        if not entry:
            continue
        if not (entry.isdigit() or entry.startswith("GPU-")):
            raise ConfigError(f"bad GPU {entry!r}", hint="write GPU indexes (0,1) or UUIDs (GPU-…), "
                                                         "optionally with ':shared'")
        devices.append(entry)
    return tuple(dict.fromkeys(devices)), shared


def gpu_request(row_gpus: Sequence[str], run_gpus: Sequence[str]) -> GpuRequest:
    """A job's request from its row's ``gpus`` cell, else from ``--gpus``."""
    if row_gpus:
        devices, shared = _parse(row_gpus)
        return GpuRequest(devices=devices, shared=shared)
    pool, shared = _parse(run_gpus)
    return GpuRequest(pool=pool, shared=shared)


class GpuSlots:
    """Hands out devices to running jobs; a job waits while its devices are busy."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._alone: set[str] = set()
        self._shared: Counter[str] = Counter()
        self._uses: Counter[str] = Counter()  # spread pool jobs over devices

    def _free(self, device: str, shared: bool) -> bool:
        return device not in self._alone and (shared or self._shared[device] == 0)

    def _pick(self, request: GpuRequest) -> tuple[str, ...] | None:
        if request.devices:
            ok = all(self._free(d, request.shared) for d in request.devices)
            return request.devices if ok else None
        free = [d for d in request.pool if self._free(d, request.shared)]
        return (min(free, key=lambda d: (self._uses[d], request.pool.index(d))),) if free else None

    def try_acquire(self, request: GpuRequest) -> tuple[str, ...] | None:
        """The devices now held for this job, or None when they are busy."""
        with self._changed:
            devices = self._pick(request)
            if devices is None:
                return None
            for device in devices:
                self._uses[device] += 1
                if request.shared:
                    self._shared[device] += 1
                else:
                    self._alone.add(device)
            return devices

    def release(self, devices: Sequence[str], shared: bool) -> None:
        with self._changed:
            for device in devices:
                if shared:
                    self._shared[device] -= 1
                else:
                    self._alone.discard(device)
            self._changed.notify_all()

    @contextmanager
    def hold(self, request: GpuRequest, stopping: threading.Event) -> Iterator[tuple[str, ...] | None]:
        """Wait for the devices (None if `stopping` is set first); give them back at the end."""
        devices: tuple[str, ...] | None = ()
        if request.wants_gpu:
            while (devices := self.try_acquire(request)) is None and not stopping.is_set():
                with self._changed:
                    self._changed.wait(WAIT_STEP_S)
        try:
            yield devices
        finally:
            if devices:
                self.release(devices, request.shared)
