"""benchmarks/gpu_check.py, the one script a GPU machine runs, kept working by a dry run on the CPU."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from vlmbench.verification import load_verification

pytestmark = [pytest.mark.integration, pytest.mark.transformers, pytest.mark.workers]

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_check.py"


def _script(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_a_cpu_dry_run_measures_and_only_a_gpu_run_is_recorded(tmp_path):
    out = tmp_path / "gpu.json"
    _script("run", str(tmp_path), "--out", str(out), "--device", "cpu", "--arch", "idefics3", "--requests", "6")
    found = json.loads(out.read_text())
    figures = found["archs"]["idefics3"]
    assert figures["all_on_device"] and figures["dtype"] == "float32" and figures["attention"] == "sdpa"
    assert figures["batched_equals_one_by_one"] == figures["equals_cpu_float32"] == 1.0
    assert figures["answers_per_s_batch8"] > 0 and "easyvqa_tiny" not in found  # no exported questions here

    verification = tmp_path / "verification.json"
    result = _script("record", str(out), "--verification", str(verification))
    assert "not recorded" in result.stdout and not load_verification(verification).checks

    found["archs"]["idefics3"].update(dtype="bfloat16")
    found["device"] = "NVIDIA H200"
    out.write_text(json.dumps(found))
    _script("record", str(out), "--verification", str(verification))
    [check] = load_verification(verification).checks
    assert (check.framework, check.model_family, check.where, check.device) == ("hf", "Idefics3", "gpu",
                                                                              "NVIDIA H200")
    assert check.figures["batched_equals_one_by_one"] == 1.0
