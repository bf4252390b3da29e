"""What the conformance checks share: the questions, the dataset folder, the catalog rows, one docker run.

tests/docker/test_conformance.py runs every tiny architecture through the
frameworks it stands for in their CPU images; tests/docker/test_gpu_images.py
runs the transformers ones again in vlmbench/transformers-gpu (its CUDA
torch runs on the CPU too).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PIL import Image

from tests.docker.conftest import extra_catalog
from vlmbench.runner import RunOptions, run
from vlmbench.testing.tiny import TinyFamily, build_tiny_model, tiny_family

Job = tuple[str, str, str, dict[str, Any]]  # (model name, framework, image, catalog params)

ADAPTERS = {"hf": ("models.hf.adapter", "HFVisionModel"), "vllm": ("models.vllm_engine", "VLLMModel"),
            "vllm-server": ("models.vllm_engine", "VLLMServerModel")}
# float32: vLLM's "auto" runs float32 weights in bfloat16, the transformers adapter keeps them.
# enforce_eager: no torch.compile, so the engine starts in seconds, not minutes, on CPU.
VLLM_ENGINE = {"dtype": "float32", "enforce_eager": True, "max_model_len": 1024}
MAX_NEW_TOKENS = 8
# (id, question, image colours): different lengths and image counts, so a batch needs real padding.
QUESTIONS = [
    ("text-1", "Hello", []),
    ("text-2", "A much longer question without any picture, about the seller and the buyer.", []),
    ("one-1", "What is written?", [(200, 10, 10)]),
    ("one-2", "Colour?", [(10, 40, 220)]),
    ("one-3", "Invoice total? Answer with a number.", [(30, 160, 60)]),
    ("two-1", "Compare the two pictures: which one is wider?", [(10, 40, 220), (30, 160, 60)]),
    ("two-2", "Are these the same?", [(200, 10, 10), (200, 200, 20)]),
]
SIZES = [(100, 60), (48, 90), (300, 120)]


def questions(family: TinyFamily) -> list[tuple[str, str, list]]:
    return [(id_, text, colours) for id_, text, colours in QUESTIONS
            if (colours or family.text_only) and len(colours) <= (family.max_images or 2)]


def cases(family: TinyFamily, framework: str) -> list[str]:
    """What a passing check has shown, in words list-models' JSON carries."""
    counts = {len(colours) for _, _, colours in questions(family)}
    names = {0: "text only", 1: "one image", 2: "two images"}
    shown = [names[count] for count in sorted(counts)]
    held_to = "answers = transformers adapter's" if framework != "hf" and family.hf else "batched = one at a time"
    return [*shown, held_to]


def write_dataset(root: Path, family: TinyFamily) -> Path:
    """A folder with annotations.jsonl of the questions `family` takes."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    lines = []
    for number, (id_, question, colours) in enumerate(questions(family)):
        paths = []
        for index, colour in enumerate(colours):
            width, height = SIZES[(number + index) % len(SIZES)]
            image = Image.new("RGB", (width, height), colour)
            image.paste((255 - colour[0], 20, 200), (width // 4, height // 4, width // 2, height // 2))
            paths.append(f"images/{id_}-{index}.png")
            image.save(root / paths[-1])
        lines.append(json.dumps({"id": id_, "images": paths, "question": question, "answer": "x"}))
    (root / "annotations.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def catalog_params(**params: Any) -> str:
    """A params cell of the catalog CSV."""
    return '"' + json.dumps(params).replace('"', '""') + '"'


def run_jobs(root: Path, jobs: dict[str, list[Job]]) -> Path:
    """One `vlmbench run --executor docker` of every arch's `jobs`; returns the run directory.

    Failed jobs are each test's business: the run's exit code is not asserted here.
    """
    catalog_rows, config = [], ["model_name,framework,dataset,max_new_tokens,temperature,metrics"]
    for arch, arch_jobs in jobs.items():
        weights = build_tiny_model(arch, root / "models" / arch)
        dataset = write_dataset(root / "data" / arch, tiny_family(arch))
        for name, framework, image, params in arch_jobs:
            module, class_name = ADAPTERS[framework]
            catalog_rows.append(f"{framework},tiny,{name},{image},vlmbench,{module},{class_name},{weights},"
                                + catalog_params(**params))
            config.append(f"{name},{framework},{dataset},{MAX_NEW_TOKENS},0,exact_match")
    (root / "run.csv").write_text("\n".join(config) + "\n", encoding="utf-8")
    catalog = extra_catalog(root / "catalog.csv", catalog_rows)
    run(root / "run.csv", RunOptions(executor="docker", out=root / "out", catalogs=[catalog], jobs=2))
    return root / "out"


def environment(run_dir: Path, model_name: str, framework: str) -> tuple[str, dict[str, str]]:
    """The image a job ran in and the versions its environment reported (run.json)."""
    [job] = [job for job in json.loads((run_dir / "run.json").read_text())["jobs"]
             if (job["config_row"]["model_name"], job["config_row"]["framework"]) == (model_name, framework)]
    versions = {key: str(value) for key, value in (job.get("environment") or {}).items()
                if value is not None and key in ("python", "torch", "transformers", "vllm", "vllm_distribution")}
    return job["image"], versions
