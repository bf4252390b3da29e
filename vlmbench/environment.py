"""The versions in a worker's own environment that decide a model's answers.

Each image pins its own torch, transformers and vLLM, so two jobs of one run
may see different ones (vlmbench/vllm-cpu holds an older transformers than
vlmbench/cpu). A worker reads them where it runs, for the run's record.
Everything comes from package metadata and files: importing torch or vLLM
to ask would cost seconds (vLLM's import alone takes about five) per job.
"""

from __future__ import annotations

import platform
import re
from importlib import metadata, util
from pathlib import Path

from pydantic import BaseModel, ConfigDict

# The CPU build of vLLM is its own distribution; both install the `vllm` package.
VLLM_DISTRIBUTIONS = ("vllm", "vllm-cpu")
NVIDIA_DRIVER_FILE = Path("/proc/driver/nvidia/version")
_TORCH_CUDA = re.compile(r"^cuda\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DRIVER = re.compile(r"Kernel Module\s+(?:for \S+\s+)?(\d+(?:\.\d+)+)")


class EnvironmentVersions(BaseModel):
    """None where the environment lacks the package (or the GPU driver)."""

    model_config = ConfigDict(frozen=True)

    python: str
    torch: str | None = None  # with its build: 2.13.0+cpu, 2.8.0+cu128
    transformers: str | None = None
    vllm: str | None = None
    vllm_distribution: str | None = None  # vllm or vllm-cpu
    cuda: str | None = None  # the CUDA release torch was built with
    nvidia_driver: str | None = None  # the loaded kernel module's version


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def torch_cuda_version() -> str | None:
    """``torch.version.cuda`` read from torch's version.py, without importing torch."""
    spec = util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder, "version.py")
        if path.is_file():
            found = _TORCH_CUDA.search(path.read_text(encoding="utf-8"))
            return found[1] if found else None
    return None


def nvidia_driver_version(version_file: Path = NVIDIA_DRIVER_FILE) -> str | None:
    """The NVIDIA kernel module's version, from the file the driver writes; None without one."""
    try:
        text = version_file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    found = _DRIVER.search(text)
    return found[1] if found else None


def environment_versions(driver_file: Path = NVIDIA_DRIVER_FILE) -> EnvironmentVersions:
    """The versions of this Python environment (and of the GPU driver it sees)."""
    vllm_distribution = next((name for name in VLLM_DISTRIBUTIONS if _version(name)), None)
    return EnvironmentVersions(
        python=platform.python_version(), torch=_version("torch"), transformers=_version("transformers"),
        vllm=_version(vllm_distribution) if vllm_distribution else None, vllm_distribution=vllm_distribution,
        cuda=torch_cuda_version(), nvidia_driver=nvidia_driver_version(driver_file))
