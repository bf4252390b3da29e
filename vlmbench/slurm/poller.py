"""One squeue call per poll for all of a run's Slurm jobs, however many threads ask.

Each job is watched by its own thread (as in the other executors), but a
busy cluster's controller must not get one query per job every half
second: the first thread to find the cache stale asks for every job at
once and the others read its answer.
"""

from __future__ import annotations

import threading
import time

from vlmbench.errors import ExecutorError
from vlmbench.slurm.commands import SlurmJobState, queue_states


class QueuePoller:
    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._lock = threading.Lock()
        self._watched: set[str] = set()
        self._states: dict[str, SlurmJobState] = {}
        self._asked_at = -float("inf")

    def watch(self, slurm_id: str) -> None:
        with self._lock:
            self._watched.add(slurm_id)
            self._asked_at = -float("inf")  # a new job: its state is not in the cache yet

    def forget(self, slurm_id: str) -> None:
        with self._lock:
            self._watched.discard(slurm_id)
            self._states.pop(slurm_id, None)

    def state(self, slurm_id: str) -> SlurmJobState | None:
        """The job's state as of at most one interval ago; None when the queue no longer lists it."""
        with self._lock:
            if time.monotonic() - self._asked_at >= self.interval_s:
                try:
                    states = queue_states(sorted(self._watched))
                except ExecutorError:  # squeue timed out: the jobs still run, ask again next time
                    states = None
                if states is not None:  # a controller that did not answer this time keeps the last answer
                    self._states = states
                self._asked_at = time.monotonic()
            return self._states.get(slurm_id)
