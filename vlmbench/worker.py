"""The worker: a job file in, predictions and a status out (files of vlmbench.rundir.JobDir).

It runs wherever the model's dependencies live (a subprocess of the host,
a container, a Slurm node) and reads only its job directory and the
dataset. Predictions are appended and flushed batch by batch, so a worker
killed at any moment loses at most the batch in flight; a rerun skips the
sample ids already answered.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from queue import Full, Queue
from typing import NoReturn

from PIL import Image

from vlmbench.datasets import load_image, references_fingerprint
from vlmbench.datasets.job_samples import job_samples
from vlmbench.datasets.schema import Sample
from vlmbench.environment import environment_versions, torch_gpu_names
from vlmbench.errors import VlmbenchError
from vlmbench.models.base import Request, VisionLanguageModel
from vlmbench.process_exit import exit_now
from vlmbench.registry import resolve_model_class
from vlmbench.rundir import JobDir, read_spec
from vlmbench.rundir.records import FailureClass, JobStatus, Prediction, now_iso
from vlmbench.shards import Shard
from vlmbench.weights_revision import loaded_weights

STATUS_EVERY_S = 2.0
PREFETCH_BATCHES = 2
# Set by the local executor to its own pid: the worker then dies with that host (see _die_with_parent).
PARENT_PID_VARIABLE = "VLMBENCH_PARENT_PID"
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


class Interrupted(BaseException):
    """SIGTERM reached the worker; a BaseException so model error handling cannot swallow it."""


Decoded = tuple[Sample, list[Image.Image] | None, str | None]  # sample, images, decode error


def _decode(root: Path, samples: list[Sample]) -> list[Decoded]:
    batch: list[Decoded] = []
    for sample in samples:
        try:
            batch.append((sample, [load_image(root, path) for path in sample.images], None))
        except Exception as exc:  # noqa: BLE001 - any undecodable image is that sample's error
            batch.append((sample, None, f"image decode failed: {type(exc).__name__}: {exc}"))
    return batch


def _decode_batches(root: Path, samples: list[Sample], batch_size: int, out: Queue,
                    stop: threading.Event) -> None:
    """Producer thread: decode the next batches while the model works on this one."""
    try:
        for start in range(0, len(samples), batch_size):
            if not _put_unless_stopped(out, _decode(root, samples[start:start + batch_size]), stop):
                return
    finally:
        _put_unless_stopped(out, None, stop)


def _put_unless_stopped(out: Queue, item: object, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            out.put(item, timeout=0.2)
            return True
        except Full:
            continue
    return False


def _batches(root: Path, samples: list[Sample], batch_size: int, ahead: bool) -> Iterator[list[Decoded]]:
    """The samples in batches with their images decoded: by a thread, batches ahead, when ``ahead``
    (the model's :attr:`~VisionLanguageModel.decode_ahead`), else each batch when it is asked for."""
    if not ahead:
        for start in range(0, len(samples), batch_size):
            yield _decode(root, samples[start:start + batch_size])
        return
    queue: Queue = Queue(maxsize=PREFETCH_BATCHES)
    stop = threading.Event()
    thread = threading.Thread(target=_decode_batches, args=(root, samples, batch_size, queue, stop),
                              name="image-decoder", daemon=True)
    thread.start()
    try:
        while (batch := queue.get()) is not None:
            yield batch
    finally:
        stop.set()


#: Per-sample model errors whose traceback goes to worker.log (the first few: the rest are alike).
LOGGED_TRACEBACKS = 3
_logged = [0]


def _log_traceback(exc: BaseException) -> None:
    """A model error's traceback in worker.log (the worker's stdout), where a bug in the model or in vlmbench
    can be found; the prediction and the status keep one line."""
    if _logged[0] < LOGGED_TRACEBACKS:
        _logged[0] += 1
        print(f"a sample failed ({_logged[0]} of at most {LOGGED_TRACEBACKS} tracebacks logged):", flush=True)
        traceback.print_exception(exc, file=sys.stdout)
        sys.stdout.flush()


def _answer(model: VisionLanguageModel,
            requests: list[Request]) -> tuple[list[str | None], list[str | None], float]:
    """Answer a batch; if the batch fails, answer one by one so one bad sample costs only itself."""
    start = time.perf_counter()
    try:
        answers: list[str | None] = list(model.generate(requests))
        if len(answers) != len(requests):
            raise RuntimeError(f"model returned {len(answers)} answers for {len(requests)} requests")
        return answers, [None] * len(requests), time.perf_counter() - start
    except Exception as exc:  # noqa: BLE001 - model errors become per-sample errors
        if len(requests) == 1:
            _log_traceback(exc)
            return [None], [f"{type(exc).__name__}: {exc}"], time.perf_counter() - start
    answers, errors = [], []
    for request in requests:
        answer, error, _ = _answer(model, [request])
        answers += answer
        errors += error
    return answers, errors, time.perf_counter() - start


class Worker:
    def __init__(self, job_path: Path, shard: Shard | None = None):
        self.spec = read_spec(job_path)
        self.job = JobDir.of_spec_file(job_path)
        self.shard = shard
        self.files = self.job.shard(shard)  # where this worker writes: its shard's folder, if it has one
        self.status = JobStatus(state="running", started_at=now_iso(), worker_pid=os.getpid(),
                                host=platform.node(), runner_pid=_parent_pid())
        #: What an unexpected exception fails the job of, by where it came from (see run_worker).
        self.failure_class: FailureClass = "infrastructure"
        self.generate_s = 0.0  # time spent in the model's generate(): what tokens per second divide by

    def _write_status(self) -> None:
        self.files.write_status(self.status)

    def _pending_samples(self) -> list[Sample]:
        # The samples the host handed over (parsed once per run), or the dataset read here when it handed none.
        self.root, samples = job_samples(self.spec.dataset, self.job.read_samples())
        self.status.references_fingerprint = references_fingerprint(samples)  # the whole job's, shard or not
        if self.shard is not None:
            samples = self.shard.take(samples)
        wanted = {s.id for s in samples}
        # A sample that failed before is tried again: this job is running because it is not done,
        # and a failure may have been passing (out of memory, a timeout, a file being copied).
        kept = [p for p in self.files.read_predictions(with_shards=self.shard is None) if p.answered]
        # Rewrite without a torn last line (a kill mid-write) or the failures before appending again.
        if self.files.has_predictions():
            self.files.rewrite_predictions(kept)
        done = {p.id for p in kept}
        if self.shard is not None:  # what the job holds already (merged from an earlier run) is not asked again
            done |= {p.id for p in self.job.read_predictions(with_shards=False) if p.answered}
        self.status.n_samples = len(samples)
        self.status.n_done = len(done & wanted)
        self.status.n_errors = 0
        return [s for s in samples if s.id not in done]

    def _load_model(self) -> VisionLanguageModel:
        ref = self.spec.model
        cls = resolve_model_class(ref.class_path, ref.git_python_package)
        start = time.perf_counter()
        model = cls.for_job(self.spec)
        self.status.model_load_s = round(time.perf_counter() - start, 3)
        return model

    def _record_provenance(self, model: VisionLanguageModel) -> None:
        """The weights the model was loaded from, and the GPUs it uses once it has put torch on CUDA."""
        ref = self.spec.model
        try:
            self.status.weights = loaded_weights(model, ref.weights, ref.params.get("revision"))
        except OSError as exc:  # a file of the folder unreadable: the answers still count, the record says less
            print(f"the weights' revision is not recorded: {exc}", flush=True)
        gpus = torch_gpu_names()
        if gpus is not None and self.status.environment is not None:
            self.status.environment = self.status.environment.model_copy(update={"gpus": gpus})
        self._write_status()

    def _prompt(self, sample: Sample) -> str:
        # A multiple-choice sample's options reach the model as lettered lines.
        prompt = self.spec.prompt
        return prompt.render(sample.question, sample.doc_class, sample.question_type, sample.choices)

    def run(self) -> int:
        wall_start = time.perf_counter()
        self.status.environment = environment_versions()
        self._write_status()
        todo = self._pending_samples()
        self._write_status()
        if todo:
            self.failure_class = "model-load"
            model = self._load_model()
            self.failure_class = "model-error"
            try:
                self._record_provenance(model)
                self._timed_predict(model, todo)
            finally:
                self._record_usage(model)
                model.close()
            self.failure_class = "infrastructure"
        wall = time.perf_counter() - wall_start
        self._settle()
        self.status.finished_at = now_iso()
        self.status.wall_s = round(wall, 3)
        self.status.samples_per_s = round(len(todo) / wall, 3) if todo and wall > 0 else None
        self._write_status()
        return self.status.exit_code

    def _settle(self) -> None:
        """done, or failed when the model answered too little for its scores to speak for the job."""
        n, n_failed = self.status.n_samples, self.status.n_errors
        if n and (n_failed == n or n_failed / n > self.spec.max_error_rate):
            # Rare path: reading the file back is fine here.
            first = next((p.error or "no answer" for p in self.files.read_predictions() if not p.answered),
                         "no answer")
            self.status.state, self.status.exit_code, self.status.failure_class = "failed", 1, "model-error"
            allowed = f"{self.spec.max_error_rate:.0%}"
            self.status.error = (f"{n_failed} of {n} samples failed (more than {allowed} "
                                 f"allowed); first: {first}")
        else:
            self.status.state, self.status.exit_code = "done", 0

    def _record_usage(self, model: VisionLanguageModel) -> None:
        """Tokens per second where the adapter counts the tokens it generates; the peak GPU memory."""
        tokens = getattr(model, "tokens_generated", None)
        if isinstance(tokens, int) and tokens > 0 and self.generate_s > 0:
            self.status.output_tokens = tokens
            self.status.tokens_per_s = round(tokens / self.generate_s, 2)
        self.status.peak_gpu_memory_mb = peak_gpu_memory_mb()

    def _timed_predict(self, model: VisionLanguageModel, todo: list[Sample]) -> None:
        """:meth:`_predict`, with the prediction phase's seconds and rate in the status however it ends."""
        start, done_before = time.perf_counter(), self.status.n_done
        try:
            self._predict(model, todo)
        finally:
            seconds, predicted = time.perf_counter() - start, self.status.n_done - done_before
            self.status.predict_s = round(seconds, 3)
            self.status.predict_samples_per_s = round(predicted / seconds, 3) if predicted and seconds > 0 else None

    def _predict(self, model: VisionLanguageModel, todo: list[Sample]) -> None:
        last_status = time.monotonic()
        with self.files.append_predictions() as out:
            batch_size = self.spec.batch_size or model.max_batch_size
            for batch in _batches(self.root, todo, batch_size, model.decode_ahead):
                ready = [(sample, images) for sample, images, error in batch if error is None]
                requests = [Request(prompt=self._prompt(sample), images=images, params=self.spec.generation,
                                    system_prompt=self.spec.prompt.system_prompt) for sample, images in ready]
                answers, errors, seconds = _answer(model, requests) if requests else ([], [], 0.0)
                self.generate_s += seconds
                results = iter(zip(answers, errors, strict=True))
                per_sample = seconds / max(len(requests), 1)
                lines = []
                for sample, _images, decode_error in batch:
                    answer, error = (None, decode_error) if decode_error else next(results)
                    lines.append(Prediction(id=sample.id, prompt=self._prompt(sample),
                                            system_prompt=self.spec.prompt.system_prompt, answer=answer,
                                            latency_s=round(per_sample, 4), error=error).model_dump_json())
                    self.status.n_errors += error is not None or answer is None
                out.write("\n".join(lines) + "\n")
                out.flush()
                self.status.n_done += len(batch)
                if time.monotonic() - last_status > STATUS_EVERY_S:
                    self._write_status()
                    last_status = time.monotonic()


def peak_gpu_memory_mb() -> float | None:
    """The most GPU memory torch allocated at once, summed over its devices; None without CUDA in use.

    Only a torch the model imported is asked (the worker never imports it for this), and only once
    CUDA was initialised: a CPU model reports nothing rather than 0.
    """
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available() or not torch.cuda.is_initialized():
        return None
    peak = sum(torch.cuda.max_memory_allocated(device) for device in range(torch.cuda.device_count()))
    return round(peak / 2**20, 1)


def _raise_interrupted(signum: int, frame: object) -> None:
    # Once: a second SIGTERM must not cut short the recording of the first. It does come: the
    # parent-death signal is sent again as each of a dying host's threads exits.
    signal.signal(signum, signal.SIG_IGN)
    raise Interrupted(signal.Signals(signum).name)


def _parent_pid() -> int | None:
    """The pid of the local `vlmbench run` that started this worker, if one did."""
    try:
        return int(os.environ[PARENT_PID_VARIABLE])
    except (KeyError, ValueError):
        return None


def _die_with_parent() -> None:
    """Have the kernel send this worker SIGTERM when its local host process dies (Linux).

    Done here, at the worker's start, rather than in a ``preexec_fn`` of the host's Popen:
    ``preexec_fn`` runs between fork and exec and is not safe in a host that runs jobs from a
    thread pool. The gap this leaves (the host dying while the worker imports) is closed by
    checking, once the signal is armed, that the parent is still the host that set the variable.
    SIGTERM rather than SIGKILL: the worker's handler then records "interrupted" with every
    flushed batch, and the model's close() stops whatever the model started. The kernel sends
    it when the host *thread* that started the worker ends (so getppid() may still name the
    dying host when it arrives); the local executor's thread waits for its worker, so in
    practice that is when the host process dies. Elsewhere (macOS, a
    container, Slurm) nothing is armed: the host stops its worker itself, and a rerun finds and
    stops a worker left by a host killed outright (executors.local.release_job_dir).
    """
    parent = _parent_pid()
    if parent is None:
        return
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        except (OSError, AttributeError):
            pass  # no prctl: the rerun's check is what is left
    if os.getppid() != parent:
        raise Interrupted(f"the end of its host `vlmbench run` (pid {parent}), before the worker started")


def run_worker(job_path: Path, shard: Shard | None = None) -> int:
    """Entry point of `vlmbench worker`: 0 done, 1 failed, 130 interrupted."""
    signal.signal(signal.SIGTERM, _raise_interrupted)
    try:
        worker = Worker(Path(job_path), shard)
    except VlmbenchError as exc:  # a job file this worker cannot read: said in its status too, then as ever
        job = JobDir.of_spec_file(job_path)
        with contextlib.suppress(OSError):  # no job folder to write in: the host says it
            if Path(job_path).is_file():  # one that is there but wrong (none: no job folder)
                job.shard(shard).write_status(JobStatus(
                    state="failed", exit_code=exc.exit_code, error=str(exc), failure_class=exc.failure_class,
                    started_at=now_iso(), finished_at=now_iso(), worker_pid=os.getpid(), host=platform.node(),
                    runner_pid=_parent_pid()))
        raise
    try:
        _die_with_parent()
        return worker.run()
    except (Interrupted, KeyboardInterrupt) as exc:
        worker.status.state, worker.status.exit_code = "interrupted", 130
        worker.status.failure_class = "interrupted"
        worker.status.error = f"interrupted by {exc or 'SIGINT'}"
    except VlmbenchError as exc:
        worker.status.state, worker.status.exit_code = "failed", 1
        worker.status.failure_class = exc.failure_class
        worker.status.error = str(exc)
        if exc.__cause__ is not None:  # what it was raised from, for whoever reads the log
            traceback.print_exception(exc, file=sys.stdout)
        print(f"error: {exc}", flush=True)
    except Exception as exc:  # noqa: BLE001 - any crash is recorded for the host, with its traceback in the log
        worker.status.state, worker.status.exit_code = "failed", 1
        worker.status.failure_class = worker.failure_class
        worker.status.error = f"{type(exc).__name__}: {exc} (traceback in worker.log)"
        traceback.print_exc(file=sys.stdout)
        sys.stdout.flush()
    worker.status.finished_at = now_iso()
    worker._write_status()
    return worker.status.exit_code or 1


def run_worker_and_exit(job_path: Path, shard: Shard | None = None) -> NoReturn:
    """:func:`run_worker`, then the end of this process with its exit code, without the interpreter's teardown.

    Tearing down an interpreter that loaded torch and a model frees every module and tensor one by one:
    a second or more after the last prediction, during which the job is done on disk but its host still
    waits. Nothing in it is needed once the final status is durable, so the process ends at once: the
    status was written atomically and fsynced (write_atomic), its folder entry is synced here, and
    process_exit.exit_now runs the exit handlers and flushes worker.log (stdout and stderr). An exception
    out of run_worker (a job file it cannot read, a bug) takes the ordinary way out instead, so its
    message or traceback is printed as ever.
    """
    code = run_worker(job_path, shard)
    _sync_folder(JobDir.of_spec_file(job_path).shard(shard).path)
    exit_now(code)


def _sync_folder(folder: Path) -> None:
    """fsync a folder, so that the renames into it (the final status) survive a crash of the machine."""
    try:
        descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # no folder to sync (removed under the worker): its status was never going to be read
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # a file system that cannot sync folders (some network ones): the file itself was synced
    finally:
        os.close(descriptor)
