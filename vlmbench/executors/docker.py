"""The docker executor: each job's worker runs in a container of the model's image.

The container runs ``vlmbench worker /job/container-job.json`` as the invoking
user's uid:gid (so its files are the user's), sees only its job directory
(read-write), its dataset (read-only), local weights (read-only) and the
shared weights cache, and gets only an allow-list of environment
variables. It is locked down (:meth:`ContainerJob.security`): every
capability dropped, no-new-privileges, a read-only root with a tmpfs for
scratch, a PID limit, no Docker socket and no network unless the job needs
one. GPUs come from a slot scheduler (see :mod:`vlmbench.gpus`).
A timeout or Ctrl-C stops the container (SIGTERM, so the worker records
what it did), kills it after a grace period, and the container is always
removed; every container carries run and job labels so leftovers of a
killed host are found and removed before the job runs again.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from vlmbench.config import env_number
from vlmbench.docker.engine import (
    NVIDIA_HINT,
    START_HINT,
    connect,
    has_nvidia_runtime,
    image_digests,
    image_exists,
)
from vlmbench.docker.jobs import JOB_DIR, LABEL_JOB, LABEL_RUN, ContainerJob, hf_cache_dir, labels
from vlmbench.docker.names import how_to_get
from vlmbench.errors import ExecutorError, InfrastructureError, Problem
from vlmbench.executors.base import Executor, Observation
from vlmbench.plan import PlannedJob
from vlmbench.progress import LineCounter, ProgressSink
from vlmbench.rundir import JobDir
from vlmbench.shards import Shard

POLL_S = 0.25
TIMEOUT_VARIABLE = "VLMBENCH_JOB_TIMEOUT_S"
MEMORY_VARIABLE = "VLMBENCH_DOCKER_MEMORY"  # a cap per container, e.g. 16g
KILLED_EXIT_CODE = 137  # 128 + SIGKILL
KILLED_OUTSIDE = ("container killed (SIGKILL, exit 137: `docker kill`, or the kernel's OOM killer outside the "
                  "container)")


class DockerExecutor(Executor):
    name = "docker"
    needs_host_import = False

    def __init__(self, timeout_s: float | None = None, stop_grace_s: float = 10.0, user: str | None = None,
                 cache_dir: Path | None = None, memory: str | None = None) -> None:
        super().__init__(timeout_s if timeout_s is not None else env_number(TIMEOUT_VARIABLE, minimum=1))
        self.memory = memory or os.environ.get(MEMORY_VARIABLE) or None
        self.stop_grace_s = stop_grace_s
        self.user = user or f"{os.getuid()}:{os.getgid()}"
        self.cache_dir = cache_dir
        self._client = None

    @property
    def client(self):
        if self._client is None:
            self._client = connect()
        return self._client

    def check(self, jobs: Sequence[PlannedJob]) -> None:
        """No engine, a missing image, GPUs without the NVIDIA runtime: said before anything starts."""
        client = self.client
        problems: list[Problem] = []
        by_image: dict[str, list[str]] = {}
        for job in jobs:
            if not job.spec.image:
                problems.append(Problem(f"model {job.catalog_row.model_name!r} (row {job.spec.config_row}) has "
                                        "no docker_image", hint="set one in the catalog or the run CSV's "
                                                                "docker_image column"))
            else:
                by_image.setdefault(job.spec.image, []).append(str(job.spec.config_row))
        for image, rows in by_image.items():
            if not image_exists(client, image):
                problems.append(Problem(f"image {image} (row {', '.join(rows)}) is not in the Docker Engine",
                                        hint=how_to_get(image)))
        if problems:
            raise ExecutorError.from_problems(problems)
        gpu_jobs = [job for job in jobs if self.gpu_request(job).wants_gpu]
        if gpu_jobs and not has_nvidia_runtime(client):
            rows = ", ".join(str(job.spec.config_row) for job in gpu_jobs)
            raise ExecutorError(f"GPUs are asked for (row {rows}) but the Docker Engine has no NVIDIA runtime",
                                hint=NVIDIA_HINT)

    def describe_mounts(self, job: PlannedJob, job_dir: Path) -> list[str]:
        return ContainerJob(job.spec, job_dir, job.dataset_root, hf_cache_dir(create=False)).describe_mounts()

    def image_digests(self, images: Sequence[str]) -> dict[str, str]:
        return image_digests(images, self.client)

    def release_finished(self, job: PlannedJob, job_dir: Path) -> None:
        # A host killed after its container wrote "done" but before it removed the container: the job is not
        # run again, so run_job's removal never comes.
        self.remove_containers(job_dir=job_dir, job_id=job.job_id)

    def remove_containers(self, job_dir: Path | None = None, **label_values: str) -> int:
        """Remove vlmbench's containers carrying these labels (e.g. run_id=...) and, given job_dir, mounting
        that folder as their /job; how many went."""
        import docker
        import requests

        names = {"run_id": LABEL_RUN, "job_id": LABEL_JOB}
        filters = {"label": [f"{names[key]}={value}" for key, value in label_values.items()]}
        gone = 0
        try:
            found = self.client.containers.list(all=True, filters=filters)
        except (docker.errors.DockerException, requests.exceptions.ConnectionError) as exc:
            raise InfrastructureError(f"the Docker Engine did not list vlmbench's containers: {exc}",
                                      hint=START_HINT) from exc
        for container in found:
            if job_dir is not None and not any(m.get("Destination") == JOB_DIR and m.get("Source") == str(
                    job_dir.resolve()) for m in container.attrs.get("Mounts") or []):
                continue  # the same job of another run folder: not a leftover of this one
            container.remove(force=True)
            gone += 1
        return gone

    def before_job(self, job: PlannedJob, job_dir: Path) -> None:
        # A container left by a host that was killed outright would write to the same files: found by its
        # job label and folder, whatever run id it had (a renamed run CSV gives the folder another one),
        # and of any shard. An engine that does not answer (connect, list) is tried again (see _run_one).
        self.remove_containers(job_dir=job_dir, job_id=job.job_id)

    def run_job(self, job: PlannedJob, job_dir: Path, progress: ProgressSink,
                shard: Shard | None = None) -> Observation:
        progress.start(job.job_id, job.label, job.n_samples)
        with self.slots.hold(self.gpu_request(job, shard), self.stopping) as devices:
            if devices is None or self.stopping.is_set():
                return Observation(stopped=True)
            return self._run_container(job, job_dir, devices, progress, shard)

    def _start(self, job: PlannedJob, target: ContainerJob, command: list[str], devices: Sequence[str],
               shard: Shard | None):
        """A started container of the job; an engine's refusal (which may pass) is an InfrastructureError."""
        import docker
        import requests

        try:
            container = self.client.containers.create(
                job.spec.image, entrypoint=["vlmbench", "worker"], command=command,
                user=self.user, environment=target.environment(), mounts=target.docker_mounts(),
                device_requests=target.device_requests(devices),
                labels=labels(job.spec.run_id, job.job_id, shard), working_dir="/job", init=True,
                shm_size="2g", mem_limit=self.memory, detach=True,
                name=f"vlmbench-{job.job_id}{f'-{shard.name}' if shard else ''}-{os.getpid()}",
                **target.security())
        except docker.errors.ImageNotFound:
            raise ExecutorError(f"image {job.spec.image} is not in the Docker Engine",
                                hint=how_to_get(job.spec.image)) from None
        except (docker.errors.DockerException, requests.exceptions.ConnectionError) as exc:
            raise _refused(job, devices, exc) from exc
        try:
            container.start()
        except (docker.errors.DockerException, requests.exceptions.ConnectionError) as exc:  # e.g. no GPU driver
            try:
                container.remove(force=True)  # a retry creates another of the same name
            except (docker.errors.DockerException, requests.exceptions.ConnectionError):
                pass
            raise _refused(job, devices, exc) from exc
        return container

    def _run_container(self, job: PlannedJob, job_dir: Path, devices: Sequence[str],
                       progress: ProgressSink, shard: Shard | None) -> Observation:
        import docker

        target = ContainerJob(job.spec, job_dir, job.dataset_root, self.cache_dir or hf_cache_dir())
        command = [target.write_job_file(), *(["--shard", str(shard)] if shard else [])]
        files = JobDir(job_dir).shard(shard)
        container = self.retrying(lambda: self._start(job, target, command, devices, shard), files.path,
                                  f"starting a container of {job.spec.image}")
        try:
            return self._supervise(container, job, files, progress)
        finally:
            try:
                container.remove(force=True)
            except docker.errors.NotFound:
                pass  # already removed from outside; _supervise said so

    def _supervise(self, container, job: PlannedJob, files: JobDir, progress: ProgressSink) -> Observation:
        import docker

        counter = LineCounter(files.predictions_file)
        stopped = timed_out = False
        started = time.monotonic()
        logger = threading.Thread(target=_stream_logs, args=(container, files),
                                  name=f"logs-{job.job_id}", daemon=True)
        logger.start()
        while True:
            try:
                container.reload()
            except docker.errors.NotFound:
                raise ExecutorError(f"the container of job {job.job_id} was removed from outside vlmbench") from None
            if container.status in ("exited", "dead"):
                break
            progress.advance_to(job.job_id, min(counter.count(), job.n_samples))
            if self.stopping.is_set() and not stopped:
                stopped = True
                container.stop(timeout=int(self.stop_grace_s))  # SIGTERM, SIGKILL after the grace
            elif self.timeout_s and time.monotonic() - started > self.timeout_s and not timed_out:
                timed_out = True
                container.stop(timeout=int(self.stop_grace_s))
            time.sleep(POLL_S)
        logger.join(timeout=5)
        progress.advance_to(job.job_id, min(counter.count(), job.n_samples))
        state = container.attrs["State"]
        exit_code = int(state.get("ExitCode", -1))
        # Killed with no stop, timeout or OOM of the engine's: `docker kill`, or the host's OOM killer.
        outside = exit_code == KILLED_EXIT_CODE and not (stopped or timed_out or state.get("OOMKilled"))
        return Observation(exit_code=exit_code, oom=bool(state.get("OOMKilled")), stopped=stopped,
                           timed_out_s=self.timeout_s if timed_out else None,
                           external=KILLED_OUTSIDE if outside else None)


def _refused(job: PlannedJob, devices: Sequence[str], exc: Exception) -> InfrastructureError:
    reason = getattr(exc, "explanation", None) or str(exc)
    return InfrastructureError(f"the Docker Engine refused to run {job.spec.image} for job {job.job_id}: "
                               f"{reason}", hint=NVIDIA_HINT if devices else None)


def _stream_logs(container, files: JobDir) -> None:
    with files.open_log() as log:
        for chunk in container.logs(stream=True, follow=True, stdout=True, stderr=True):
            log.write(chunk)
            log.flush()

