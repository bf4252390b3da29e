"""The versions in a worker's own environment that decide a model's answers.

Each image pins its own torch, transformers and vLLM, so two jobs of one run
may see different ones (vlmbench/vllm-cpu holds an older transformers than
vlmbench/cpu). A worker reads them where it runs, for the run's record.
Everything comes from package metadata and files: importing torch or vLLM
to ask would cost seconds (vLLM's import alone takes about five) per job.
The GPUs' names come from a torch the model has already loaded onto CUDA, or
else from nvidia-smi.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
from importlib import metadata, util
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

# The CPU build of vLLM is its own distribution; both install the `vllm` package.
VLLM_DISTRIBUTIONS = ("vllm", "vllm-cpu")
NVIDIA_DRIVER_FILE = Path("/proc/driver/nvidia/version")
_TORCH_CUDA = re.compile(r"^cuda\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DRIVER = re.compile(r"Kernel Module\s+(?:for \S+\s+)?(\d+(?:\.\d+)+)")
#: Besides torch, transformers and vLLM: the packages that also shape what a model is given or answers
#: (tokenisers, image decoding, weight loading, kernels), and the worker's own vlmbench (an image's may
#: lag the host's).
OTHER_PACKAGES = ("vlmbench", "tokenizers", "accelerate", "safetensors", "huggingface-hub", "pillow", "numpy",
                  "flash-attn", "bitsandbytes", "timm", "qwen-vl-utils", "openai")
NVIDIA_SMI_TIMEOUT_S = 10.0


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
    # Optional, so that the environments older workers recorded still read.
    platform: str | None = None  # platform.platform() where the worker runs: its OS, kernel and C library
    gpus: list[str] = Field(default_factory=list)  # names of the GPUs the worker may use (see gpu_names)
    packages: dict[str, str] = Field(default_factory=dict)  # OTHER_PACKAGES that are installed


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


def torch_gpu_names() -> list[str] | None:
    """The GPUs of a torch that the model imported and that has initialised CUDA; None otherwise.

    Never imports torch, and never initialises CUDA: for a model on the CPU that would cost
    seconds and claim a GPU it does not use.
    """
    torch = sys.modules.get("torch")
    try:
        if torch is None or not torch.cuda.is_initialized():
            return None
        return [torch.cuda.get_device_name(index) for index in range(torch.cuda.device_count())]
    except (AttributeError, RuntimeError):  # a torch without CUDA support, or a broken driver
        return None


def nvidia_smi_gpu_names(visible: str | None = None) -> list[str]:
    """The names nvidia-smi gives the GPUs this process may use; none without nvidia-smi.

    ``visible`` is CUDA_VISIBLE_DEVICES (read from the environment when None): nvidia-smi lists every
    GPU of the machine, so it is asked for those alone. An id nvidia-smi does not take (a MIG
    instance) gives none rather than the whole machine's list.
    """
    program = shutil.which("nvidia-smi")
    if program is None:
        return []
    visible = os.environ.get("CUDA_VISIBLE_DEVICES") if visible is None else visible
    command = [program, "--query-gpu=name", "--format=csv,noheader"]
    if visible is not None:
        if visible.strip() in ("", "-1", "NoDevFiles"):
            return []
        command.append(f"--id={visible.strip()}")
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=NVIDIA_SMI_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    if done.returncode != 0:
        return []
    return [line.strip() for line in done.stdout.splitlines() if line.strip()]


def gpu_names() -> list[str]:
    """The names of the GPUs this worker may use: torch's view once the model has initialised CUDA, else
    nvidia-smi's, else none."""
    found = torch_gpu_names()
    return nvidia_smi_gpu_names() if found is None else found


def other_packages() -> dict[str, str]:
    """The installed OTHER_PACKAGES and their versions."""
    return {name: version for name in OTHER_PACKAGES if (version := _version(name))}


def environment_versions(driver_file: Path = NVIDIA_DRIVER_FILE) -> EnvironmentVersions:
    """The versions of this Python environment (and of the GPU driver and GPUs it sees)."""
    vllm_distribution = next((name for name in VLLM_DISTRIBUTIONS if _version(name)), None)
    return EnvironmentVersions(
        python=platform.python_version(), torch=_version("torch"), transformers=_version("transformers"),
        vllm=_version(vllm_distribution) if vllm_distribution else None, vllm_distribution=vllm_distribution,
        cuda=torch_cuda_version(), nvidia_driver=nvidia_driver_version(driver_file),
        platform=platform.platform(), gpus=gpu_names(), packages=other_packages())
