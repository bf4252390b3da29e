"""One thread owns the model: requests that arrive together are answered in one batch.

HTTP handler threads hand their request over and wait. Torch models are not
safe to call from several threads at once, and a batch of concurrent
requests is what a VLM answers fastest, so the model thread waits a few
milliseconds after the first request for others to join it.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field

from vlmbench.models.base import Request, VisionLanguageModel


@dataclass
class _Pending:
    request: Request
    done: threading.Event = field(default_factory=threading.Event)
    answer: str | None = None
    error: Exception | None = None


class Batcher:
    """Serializes calls to ``model.generate`` and groups requests that arrive within ``wait_s``."""

    def __init__(self, model: VisionLanguageModel, max_batch: int | None = None,
                 wait_s: float = 0.005) -> None:
        self.model = model
        self.max_batch = max(1, max_batch or model.max_batch_size)
        self.wait_s = wait_s
        self.batch_sizes: list[int] = []
        self._queue: queue.Queue[_Pending | None] = queue.Queue()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="model-batcher", daemon=True)
        self._thread.start()

    def submit(self, request: Request) -> str:
        """The model's answer to one request; raises what the model raised for it."""
        pending = _Pending(request)
        self._queue.put(pending)
        pending.done.wait()
        if pending.error is not None:
            raise pending.error
        return pending.answer or ""

    def _collect(self) -> list[_Pending]:
        first = self._queue.get()
        if first is None:
            self._stopping = True
            return []
        batch = [first]
        deadline = time.monotonic() + self.wait_s
        while len(batch) < self.max_batch:
            try:
                item = self._queue.get(timeout=max(deadline - time.monotonic(), 0.0))
            except queue.Empty:
                break
            if item is None:
                self._stopping = True
                break
            batch.append(item)
        return batch

    def _run(self) -> None:
        while not self._stopping:
            batch = self._collect()
            if batch:
                self._answer(batch)

    def _answer(self, batch: list[_Pending]) -> None:
        self.batch_sizes.append(len(batch))
        try:
            answers = self.model.generate([pending.request for pending in batch])
            if len(answers) != len(batch):
                raise RuntimeError(f"model returned {len(answers)} answers for {len(batch)} requests")
        except Exception as exc:  # noqa: BLE001 - the model's failure becomes that request's HTTP 500
            if len(batch) > 1:
                # One bad request must not fail the strangers batched with it: answer them one by one.
                for pending in batch:
                    self._answer([pending])
                return
            batch[0].error = exc
        else:
            for pending, answer in zip(batch, answers, strict=True):
                pending.answer = answer
        for pending in batch:
            pending.done.set()

    def close(self, timeout_s: float = 5.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout_s)
