"""One job as a container sees it: mounts, environment, labels, its job.json.

Inside, the job directory is ``/job`` (read-write), the dataset
``/dataset`` (read-only), local weights ``/weights`` (read-only) and the
Hugging Face cache ``/cache/huggingface`` (shared by all jobs, so weights
are downloaded once). job.json is rewritten with these paths: it is what
the worker in the container was told.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from vlmbench.jobfiles import JobSpec

JOB_DIR = "/job"
DATASET_DIR = "/dataset"
WEIGHTS_DIR = "/weights"
HF_CACHE_DIR = "/cache/huggingface"

LABEL_MANAGED = "vlmbench.managed"
LABEL_RUN = "vlmbench.run_id"
LABEL_JOB = "vlmbench.job_id"

# Passed into containers when set on the host, and nothing else: the host's
# environment holds paths and secrets that mean nothing (or too much) inside.
# Secrets go through the engine's API, never a command line or a file of ours.
ENV_ALLOW_LIST: tuple[str, ...] = (
    "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_ENDPOINT", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
    "HF_HUB_ENABLE_HF_TRANSFER", "OPENAI_API_KEY", "OPENAI_BASE_URL",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
    "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST",
    "OMP_NUM_THREADS", "OMP_THREAD_LIMIT", "TOKENIZERS_PARALLELISM", "CUDA_LAUNCH_BLOCKING",
    "VLLM_LOGGING_LEVEL", "VLLM_ATTENTION_BACKEND",
)
# More names, comma-separated, for what a plugin's model needs.
EXTRA_ENV_VARIABLE = "VLMBENCH_DOCKER_ENV"


def allowed_environment(host: Mapping[str, str] | None = None) -> dict[str, str]:
    """The allow-listed variables the host has set."""
    host = os.environ if host is None else host
    extra = [n.strip() for n in host.get(EXTRA_ENV_VARIABLE, "").split(",") if n.strip()]
    return {name: host[name] for name in (*ENV_ALLOW_LIST, *extra) if name in host}


def hf_cache_dir(create: bool = True) -> Path:
    """The host's Hugging Face cache, which containers share (made if missing)."""
    root = os.environ.get("HF_HOME") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "huggingface"
    path = Path(root).expanduser()
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def labels(run_id: str, job_id: str) -> dict[str, str]:
    return {LABEL_MANAGED: "true", LABEL_RUN: run_id, LABEL_JOB: job_id}


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

    def write_job_json(self) -> Path:
        path = self.job_dir / "job.json"
        self.container_spec().write(path)
        return path

    def environment(self, host: Mapping[str, str] | None = None) -> dict[str, str]:
        return {
            **allowed_environment(host),
            "HF_HOME": HF_CACHE_DIR,
            "HOME": "/tmp",  # the invoking uid has no home in the image
            "USER": "vlmbench",
            "PYTHONUNBUFFERED": "1",
            "VLMBENCH_IMAGE": self.spec.image or "",
        }

    def docker_mounts(self) -> list:
        import docker

        return [docker.types.Mount(target=m.target, source=str(m.source), type="bind", read_only=m.read_only)
                for m in self.mounts]

    def device_requests(self, devices: Sequence[str]) -> list:
        import docker

        if not devices:
            return []
        return [docker.types.DeviceRequest(driver="nvidia", device_ids=list(devices), capabilities=[["gpu"]])]
