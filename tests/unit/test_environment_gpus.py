"""The GPUs, platform and other packages a worker records of its environment."""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path

import pytest

from vlmbench.environment import (
    OTHER_PACKAGES,
    EnvironmentVersions,
    environment_versions,
    gpu_names,
    nvidia_smi_gpu_names,
    torch_gpu_names,
)

# A stand-in for nvidia-smi on a two-GPU machine: it answers the query vlmbench makes, for the ids asked.
FAKE_NVIDIA_SMI = """#!/bin/sh
names="NVIDIA H200
NVIDIA A100-SXM4-80GB"
for arg in "$@"; do
  case "$arg" in
    --query-gpu=name) query=1 ;;
    --id=*) ids="${arg#--id=}" ;;
  esac
done
[ -n "$query" ] || exit 9
if [ -z "$ids" ]; then echo "$names"; exit 0; fi
for id in $(echo "$ids" | tr ',' ' '); do
  case "$id" in
    0) echo "NVIDIA H200" ;;
    1) echo "NVIDIA A100-SXM4-80GB" ;;
    *) echo "No devices were found" >&2; exit 6 ;;
  esac
done
"""


@pytest.fixture
def nvidia_smi(tmp_path, monkeypatch) -> Path:
    program = tmp_path / "bin" / "nvidia-smi"
    program.parent.mkdir()
    program.write_text(FAKE_NVIDIA_SMI)
    program.chmod(0o755)
    monkeypatch.setenv("PATH", f"{program.parent}:/usr/bin:/bin")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    return program


def test_nvidia_smi_names_the_gpus_this_process_may_use(nvidia_smi, monkeypatch):
    assert nvidia_smi_gpu_names() == ["NVIDIA H200", "NVIDIA A100-SXM4-80GB"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    assert nvidia_smi_gpu_names() == ["NVIDIA A100-SXM4-80GB"]
    assert nvidia_smi_gpu_names("0,1") == ["NVIDIA H200", "NVIDIA A100-SXM4-80GB"]
    for hidden in ("", "-1", "NoDevFiles"):
        assert nvidia_smi_gpu_names(hidden) == []
    # An id nvidia-smi refuses gives none, never the whole machine's list.
    assert nvidia_smi_gpu_names("MIG-4f5e") == []


def test_without_nvidia_smi_there_are_no_gpus(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert nvidia_smi_gpu_names() == [] and gpu_names() == []


def test_a_cpu_torch_is_not_asked_and_nvidia_smi_answers(nvidia_smi):
    import torch

    assert not torch.cuda.is_initialized()
    assert torch_gpu_names() is None  # CUDA not in use: torch is not the one to ask
    assert not torch.cuda.is_initialized()  # and asking did not start it
    assert gpu_names() == ["NVIDIA H200", "NVIDIA A100-SXM4-80GB"]


def test_the_recorded_platform_and_packages_are_this_environment_s(tmp_path):
    versions = environment_versions(driver_file=tmp_path / "no-driver")
    assert versions.platform == platform.platform()
    expected = {}
    for name in OTHER_PACKAGES:
        try:
            expected[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    assert versions.packages == expected
    assert versions.packages["vlmbench"] == metadata.version("vlmbench")


def test_an_environment_recorded_before_these_fields_still_reads():
    old = ('{"python": "3.11.7", "torch": "2.13.0+cpu", "transformers": "5.23.0", "vllm": null, '
           '"vllm_distribution": null, "cuda": null, "nvidia_driver": null}')
    versions = EnvironmentVersions.model_validate_json(old)
    assert versions.platform is None and versions.gpus == [] and versions.packages == {}
