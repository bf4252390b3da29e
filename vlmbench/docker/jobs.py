"""One job as a container sees it: mounts, environment, labels, its own job file.

Inside, the job directory is ``/job`` (read-write), the dataset
``/dataset`` (read-only), local weights ``/weights`` (read-only) and the
Hugging Face cache ``/cache/huggingface`` (shared by all jobs, so weights
are downloaded once). The job with these paths goes to a job file of the
container's own (container-job.json, beside the plan's job.json, which
keeps the host's paths): it is what the worker in the container is told.

The container is locked down (:meth:`ContainerJob.security`): not
privileged, every capability dropped, no-new-privileges, a read-only root
with a tmpfs at ``/tmp`` (HOME) for scratch, a PID limit, no Docker socket,
and no network unless the job needs one (:func:`network_mode`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from vlmbench.errors import ExecutorError
from vlmbench.models.hf.weights import looks_like_path
from vlmbench.models.packaged import PACKAGED_PREFIX
from vlmbench.rundir import JobDir
from vlmbench.rundir.records import JobSpec
from vlmbench.shards import Shard

JOB_DIR = "/job"
DATASET_DIR = "/dataset"
WEIGHTS_DIR = "/weights"
HF_CACHE_DIR = "/cache/huggingface"

LABEL_MANAGED = "vlmbench.managed"
LABEL_RUN = "vlmbench.run_id"
LABEL_JOB = "vlmbench.job_id"
LABEL_SHARD = "vlmbench.shard"  # "2/4", on a shard's container

# Passed into containers when set on the host, and nothing else: the host's
# environment holds paths and secrets that mean nothing (or too much) inside.
# Secrets go through the engine's API, never a command line or a file of ours.
ENV_ALLOW_LIST: tuple[str, ...] = (
    "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_ENDPOINT", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
    "HF_HUB_ENABLE_HF_TRANSFER", "OPENAI_API_KEY", "OPENAI_BASE_URL", "VLMBENCH_API_KEY", "VLMBENCH_API_BASE",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
    "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST",
    "OMP_NUM_THREADS", "OMP_THREAD_LIMIT", "TOKENIZERS_PARALLELISM", "CUDA_LAUNCH_BLOCKING",
    "VLLM_LOGGING_LEVEL", "VLLM_ATTENTION_BACKEND",
)
# More names, comma-separated, for what a plugin's model needs.
EXTRA_ENV_VARIABLE = "VLMBENCH_DOCKER_ENV"
# The network of every job's container (e.g. "bridge" for a plugin model that downloads on its
# own, "none" to forbid even hub downloads), instead of what network_mode() decides per job.
NETWORK_VARIABLE = "VLMBENCH_DOCKER_NETWORK"

# Processes and threads a container may hold at once. A fork bomb stops here; vLLM and torch
# (a thread pool per core, tokenizer threads, engine and server processes) stay far below it
# even on a 256-core host, so it is generous rather than tight.
PIDS_LIMIT = 4096
# The only writable place on the read-only root: HOME=/tmp, so the caches of torch, vLLM, triton,
# matplotlib and Tesseract's scratch go there. exec: compiled kernels (torch inductor, triton) are
# loaded from it. Its pages count against the container's memory.
SCRATCH_TMPFS = {"/tmp": "rw,exec,nosuid,nodev,mode=1777"}
# Never mounted, nor a folder holding one: with it a container controls the host.
DOCKER_SOCKETS = ("/var/run/docker.sock", "/run/docker.sock")
_TRUE = {"1", "true", "yes", "on"}
_ENDPOINT_FRAMEWORKS = {"openai", "openai-compatible"}


def allowed_environment(host: Mapping[str, str] | None = None) -> dict[str, str]:
    """The allow-listed variables the host has set."""
    host = os.environ if host is None else host
    extra = [n.strip() for n in host.get(EXTRA_ENV_VARIABLE, "").split(",") if n.strip()]
    return {name: host[name] for name in (*ENV_ALLOW_LIST, *extra) if name in host}


def network_mode(spec: JobSpec, environment: Mapping[str, str], override: str | None = None) -> str:
    """The container's network: ``"none"`` unless the job must reach beyond its container.

    A network (Docker's default ``"bridge"``) for a row that talks to an
    endpoint (framework or class ``openai``, or a ``base_url`` param), and
    for weights named by a hub repo id while hub downloads are allowed
    (neither HF_HUB_OFFLINE nor TRANSFORMERS_OFFLINE set in `environment`,
    what the container gets), even if the cache already holds them. None
    for local or packaged weights, none at all (Tesseract), and the
    vllm-server adapter, whose server listens on the container's own
    loopback, which a ``"none"`` network keeps. `override`
    (VLMBENCH_DOCKER_NETWORK) wins when set.
    """
    if override and override.strip():
        return override.strip()
    model = spec.model
    class_name = model.class_path.rpartition(":")[2]
    if (model.framework.strip().lower() in _ENDPOINT_FRAMEWORKS or model.class_path in _ENDPOINT_FRAMEWORKS
            or class_name == "OpenAICompatibleModel" or model.params.get("base_url")):
        return "bridge"
    weights = (model.weights or "").strip()
    hub_id = bool(weights) and not weights.startswith(PACKAGED_PREFIX) and not looks_like_path(weights)
    offline = any(environment.get(name, "").strip().lower() in _TRUE
                  for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))
    return "bridge" if hub_id and not offline else "none"


def exposes_docker_socket(source: Path) -> bool:
    """Whether mounting `source` would show a container the Docker socket (it, or a folder above it)."""
    sockets = [Path(socket) for socket in DOCKER_SOCKETS]
    host = os.environ.get("DOCKER_HOST", "")
    if host.startswith("unix://"):
        sockets.append(Path(host.removeprefix("unix://")))
    for socket in sockets:
        candidates = {socket, socket.resolve()} if socket.exists() else {socket}
        if any(candidate == source or source in candidate.parents for candidate in candidates):
            return True
    return False


def hf_cache_dir(create: bool = True) -> Path:
    """The host's Hugging Face cache, which containers share (made if missing)."""
    root = os.environ.get("HF_HOME") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "huggingface"
    path = Path(root).expanduser()
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def labels(run_id: str, job_id: str, shard: Shard | None = None) -> dict[str, str]:
    return {LABEL_MANAGED: "true", LABEL_RUN: run_id, LABEL_JOB: job_id, **({LABEL_SHARD: str(shard)} if shard else {})}


@dataclass(frozen=True)
class Mount:
    source: Path
    target: str
    read_only: bool


@dataclass
class ContainerJob:
    """What the engine is asked for one job."""

    spec: JobSpec
    job_dir: Path
    dataset_root: Path
    cache_dir: Path
    mounts: list[Mount] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.mounts = [
            Mount(self.job_dir.resolve(), JOB_DIR, read_only=False),
            Mount(self.dataset_root.resolve(), DATASET_DIR, read_only=True),
            Mount(self.cache_dir.resolve(), HF_CACHE_DIR, read_only=False),
        ]
        if self.local_weights:
            self.mounts.append(Mount(self.local_weights, WEIGHTS_DIR, read_only=True))

    @property
    def local_weights(self) -> Path | None:
        """Weights given as a folder on the host (a hub id is fetched inside, into the cache)."""
        weights = self.spec.model.weights
        if not weights:
            return None
        path = Path(weights).expanduser()
        is_path = path.is_absolute() or weights.startswith((".", "~"))
        return path.resolve() if is_path and path.exists() else None

    def describe_mounts(self) -> list[str]:
        """``host → container (ro|rw)`` lines, for `vlmbench run --dry-run`."""
        return [f"{m.source} → {m.target} ({'ro' if m.read_only else 'rw'})" for m in self.mounts]

    def container_spec(self) -> JobSpec:
        dataset = self.spec.dataset.model_copy(update={"path": DATASET_DIR})
        model = self.spec.model
        if self.local_weights:
            model = model.model_copy(update={"weights": WEIGHTS_DIR})
        return self.spec.model_copy(update={"dataset": dataset, "model": model})

    @property
    def job_file(self) -> str:
        """The container's job file, as the container sees it."""
        return f"{JOB_DIR}/{JobDir(self.job_dir).container_spec_file.name}"

    def write_job_file(self) -> str:
        """Write the container's job file; return its path as the container sees it."""
        JobDir(self.job_dir).write_container_spec(self.container_spec())
        return self.job_file

    def environment(self, host: Mapping[str, str] | None = None) -> dict[str, str]:
        host = os.environ if host is None else host
        # The openai adapter's key, under the name the row gives it (api_key_env).
        named = self.spec.model.params.get("api_key_env")
        key = {named: host[named]} if isinstance(named, str) and named in host else {}
        return {
            **allowed_environment(host),
            **key,
            "HF_HOME": HF_CACHE_DIR,
            "HOME": "/tmp",  # the invoking uid has no home in the image
            "USER": "vlmbench",
            "PYTHONUNBUFFERED": "1",
            "VLMBENCH_IMAGE": self.spec.image or "",
        }

    def security(self, host: Mapping[str, str] | None = None) -> dict[str, object]:
        """The lock-down, as keyword arguments of the engine's ``containers.create``."""
        host = os.environ if host is None else host
        return {
            "privileged": False,
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges"],
            "read_only": True,
            "tmpfs": dict(SCRATCH_TMPFS),
            "pids_limit": PIDS_LIMIT,
            "network_mode": network_mode(self.spec, self.environment(host), host.get(NETWORK_VARIABLE)),
        }

    def docker_mounts(self) -> list:
        import docker

        if exposed := [m for m in self.mounts if exposes_docker_socket(m.source)]:
            raise ExecutorError(f"{exposed[0].source} holds the Docker socket: it is never mounted in a job's "
                                "container", hint="move the dataset, weights or Hugging Face cache elsewhere")
        return [docker.types.Mount(target=m.target, source=str(m.source), type="bind", read_only=m.read_only)
                for m in self.mounts]

    def device_requests(self, devices: Sequence[str]) -> list:
        import docker

        if not devices:
            return []
        return [docker.types.DeviceRequest(driver="nvidia", device_ids=list(devices), capabilities=[["gpu"]])]
