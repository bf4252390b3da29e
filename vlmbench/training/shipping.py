"""Writing the trained model folder: hub layout, half-precision weights, metrics.json."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from vlmbench.fileio import write_atomic

METRICS_JSON = "metrics.json"
DTYPES = ("float32", "bfloat16", "float16")


class TrainingMetrics(BaseModel):
    """What metrics.json beside the weights says about how they were made and how good they are."""

    model_config = ConfigDict(extra="forbid")

    dataset: str = "easy-vqa"
    split: str = "test"
    n: int
    accuracy: float
    baseline: float  # always answering the most frequent train answer
    baseline_answer: str
    training_seconds: float
    epochs: float
    seed: int
    parameters: int
    weights_dtype: str
    weights_bytes: int
    git_commit: str | None  # HEAD when trained
    git_dirty: bool | None  # whether the training code differed from HEAD
    code_sha256: str  # of the training script and vlmbench/training/*.py, whatever git says
    command: str
    torch_version: str
    transformers_version: str


def code_digest(files: list[Path]) -> str:
    """One hash over the training code, so a folder can be matched to the code that made it."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def git_state(repo: Path, files: list[Path]) -> tuple[str | None, bool | None]:
    """HEAD's commit and whether ``files`` differ from it; (None, None) outside a git checkout."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True,
                              check=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--", *map(str, files)], cwd=repo,
                                capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None, None
    return head, bool(status.strip())


def save_model_folder(model, processor, out: Path, dtype: str) -> int:
    """Replace ``out`` with the model and processor in hub layout; return the weights' size in bytes."""
    import torch

    from vlmbench.models.hf.hub_layout import to_hub_weight_names

    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, not {dtype!r}")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    model.to(getattr(torch, dtype)).save_pretrained(out)
    processor.save_pretrained(out)
    to_hub_weight_names(out)  # the names vLLM reads too
    config_path = out / "tokenizer_config.json"
    tokenizer_config = json.loads(config_path.read_text(encoding="utf-8"))
    # transformers 5 writes its own backend class name; the class every 4.x and 5.x release knows
    # keeps the folder loadable by older images of the model adapters too.
    tokenizer_config["tokenizer_class"] = "PreTrainedTokenizerFast"
    write_atomic(config_path, json.dumps(tokenizer_config, indent=2, ensure_ascii=False) + "\n")
    for path in out.iterdir():
        path.chmod(0o644)  # save_pretrained writes weights 0600; a container user must read them
    return (out / "model.safetensors").stat().st_size


def write_metrics(out: Path, metrics: TrainingMetrics) -> None:
    write_atomic(out / METRICS_JSON, metrics.model_dump_json(indent=2) + "\n")
    (out / METRICS_JSON).chmod(0o644)  # write_atomic's temporary file is owner-only
