"""The transformers adapter's CUDA path on a GPU machine: tiny conformance models and the trained easyvqa-tiny.

For every tiny architecture the catalog's transformers rows stand on (see
vlmbench.testing.tiny) and for the shipped easyvqa-tiny, the adapter loads
the model as a catalog row on a GPU would (``dtype=bfloat16``,
``device=cuda``, ``attn_implementation=sdpa``) and this script checks and
measures:

* placement: every parameter on the GPU, in bfloat16, SDPA attention in use;
* batching: greedy answers of batches of 8 against one request at a time
  (bfloat16 rounding may flip a near-tie, so the share that agrees is
  recorded, not required to be 1), and against float32 on the CPU;
* speed: answers per second at batch 1 and batch 8, peak GPU memory;
* easyvqa-tiny: accuracy on easy-VQA questions in bfloat16 on the GPU
  against float32 on the CPU.

It needs only torch, transformers, Pillow and pydantic (vlmbench's own
source is imported from the working tree), so it runs on a machine that
cannot fetch packages. Three steps::

    python benchmarks/gpu_check.py export build/gpu-check            # here: easy-VQA questions to carry
    python benchmarks/gpu_check.py run build/gpu-check --out gpu.json # on the GPU machine
    python benchmarks/gpu_check.py record gpu.json                    # here: into verification.json

``run --device cpu`` does the same on a CPU (tests use it so the script cannot rot).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

EASYVQA_QUESTIONS = 200
BATCH = 8


def _requests(count: int, max_images: int | None, text_only: bool, max_new_tokens: int = 8) -> list:
    from PIL import Image

    from vlmbench.models.base import GenerationParams, Request

    params = GenerationParams(max_new_tokens=max_new_tokens)
    prompts = ["What is written?", "Hello", "Colour?", "Compare the pictures: which one is wider?",
               "A longer question about the seller, the buyer and the total amount of this invoice."]
    requests = []
    for index in range(count):
        images = [Image.new("RGB", (60 + 30 * ((index + k) % 4), 50 + 20 * k), (40 * (index % 6), 90, 200 - 50 * k))
                  for k in range(1 + index % 2)]
        images = images[:max_images] if max_images else images
        if index % 5 == 1 and text_only:
            images = []
        requests.append(Request(prompt=prompts[index % len(prompts)], images=images, params=params))
    return requests


def _answers_per_second(model: Any, requests: list, batch: int) -> float:
    import torch

    model.max_batch_size = batch
    model.generate(requests[:batch])  # warm-up: kernels, allocator
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    model.generate(requests)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return len(requests) / (time.perf_counter() - start)


def _placement(model: Any, device: str) -> dict[str, Any]:
    parameters = list(model.model.parameters())
    return {"all_on_device": all(p.device.type == device for p in parameters),
            "dtype": str(parameters[0].dtype).removeprefix("torch."),
            "attention": getattr(model.model.config, "_attn_implementation", None)}


def _check_model(weights: str, device: str, requests: list) -> dict[str, Any]:
    import torch

    from vlmbench.models.hf.adapter import HFVisionModel

    dtype = "bfloat16" if device == "cuda" else "float32"
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    model = HFVisionModel(weights=weights, dtype=dtype, device=device, attn_implementation="sdpa",
                          max_batch_size=BATCH)
    figures: dict[str, Any] = _placement(model, device)
    batched = model.generate(requests)
    model.max_batch_size = 1
    one_by_one = model.generate(requests)
    reference = HFVisionModel(weights=weights, dtype="float32", device="cpu", max_batch_size=BATCH)
    on_cpu = reference.generate(requests)
    reference.close()
    same = sum(a == b for a, b in zip(batched, one_by_one, strict=True))
    as_cpu = sum(a == b for a, b in zip(batched, on_cpu, strict=True))
    figures.update(batched_equals_one_by_one=same / len(requests), equals_cpu_float32=as_cpu / len(requests),
                   answers_per_s_batch1=_answers_per_second(model, requests, 1),
                   answers_per_s_batch8=_answers_per_second(model, requests, BATCH))
    if device == "cuda":
        figures["peak_memory_mb"] = torch.cuda.max_memory_allocated() / 2**20
    model.close()
    return figures


def _easyvqa(folder: Path, device: str) -> dict[str, float]:
    from PIL import Image

    from vlmbench.models.base import GenerationParams, Request
    from vlmbench.models.hf.adapter import HFVisionModel
    from vlmbench.models.packaged import resolve_packaged

    questions = [json.loads(line) for line in (folder / "easyvqa.jsonl").read_text().splitlines()]
    params = GenerationParams(max_new_tokens=4)
    requests = [Request(prompt=q["question"], images=[Image.open(folder / q["image"]).convert("RGB")],
                        params=params) for q in questions]
    weights = str(resolve_packaged("vlmbench:models/easyvqa-tiny"))
    found = {}
    for name, (where, dtype) in {"accuracy": (device, "bfloat16" if device == "cuda" else "float32"),
                                 "accuracy_cpu_float32": ("cpu", "float32")}.items():
        model = HFVisionModel(weights=weights, dtype=dtype, device=where, max_batch_size=32)
        answers = model.generate(requests)
        found[name] = sum(a.lower() == q["answer"].lower() for a, q in zip(answers, questions, strict=True))
        found[name] /= len(questions)
        model.close()
    return found


def run(folder: Path, out: Path, device: str, archs: list[str] | None, count: int = 32) -> dict[str, Any]:
    import platform

    import torch
    import transformers

    from vlmbench.testing.tiny import TINY_ARCHS, build_tiny_model, tiny_family

    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device: run with --device cpu for a dry run")
    result: dict[str, Any] = {
        "device": torch.cuda.get_device_name(0) if device == "cuda" else platform.processor() or "cpu",
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "cuda": torch.version.cuda or "", "python": platform.python_version()},
        "archs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for arch in archs or [a for a in TINY_ARCHS if "hf" in tiny_family(a).stands_for]:
            family = tiny_family(arch)
            weights = str(build_tiny_model(arch, Path(tmp) / arch))
            requests = _requests(count, family.max_images, family.text_only)
            result["archs"][arch] = _check_model(weights, device, requests)
            print(arch, json.dumps(result["archs"][arch]), flush=True)
    if (folder / "easyvqa.jsonl").exists():
        result["easyvqa_tiny"] = _easyvqa(folder, device)
        print("easyvqa-tiny", json.dumps(result["easyvqa_tiny"]), flush=True)
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return result


def export(folder: Path, count: int = EASYVQA_QUESTIONS) -> None:
    """easy-VQA test questions and images as plain files, for a machine without the easy-vqa package."""
    from vlmbench.training.easyvqa_data import load_split

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "images").mkdir(exist_ok=True)
    split, lines = load_split("test"), []
    for question, answer, image in list(zip(split.questions, split.answers, split.image_index, strict=True))[:count]:
        source = Path(split.image_paths[image])
        name = f"images/{source.name}"
        (folder / name).write_bytes(source.read_bytes())
        lines.append(json.dumps({"question": question, "answer": answer, "image": name}))
    (folder / "easyvqa.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def record(results: Path, path: Path | None = None) -> None:
    """A `gpu` check per catalog family whose tiny model was placed and ran as asked."""
    from vlmbench.testing.tiny import tiny_family
    from vlmbench.verification import Check, record_check

    found = json.loads(results.read_text(encoding="utf-8"))
    for arch, figures in found["archs"].items():
        if not (figures["all_on_device"] and figures["dtype"] == "bfloat16" and figures["attention"] == "sdpa"):
            print(f"{arch}: not recorded, placement was {figures}")
            continue
        numbers = {key: round(value, 3) for key, value in figures.items() if isinstance(value, float)}
        for model_family in tiny_family(arch).stands_for.get("hf", ()):
            record_check(Check(framework="hf", model_family=model_family, where="gpu", arch=arch,
                               versions=found["versions"], device=found["device"], figures=numbers,
                               cases=["bfloat16", "sdpa", f"batches of {BATCH}"]), path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    steps = parser.add_subparsers(dest="step", required=True)
    steps.add_parser("export").add_argument("folder", type=Path)
    step = steps.add_parser("run")
    step.add_argument("folder", type=Path)
    step.add_argument("--out", type=Path, required=True)
    step.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    step.add_argument("--arch", action="append", help="repeatable; default: every arch with hf rows")
    step.add_argument("--requests", type=int, default=32, help="per model")
    step = steps.add_parser("record")
    step.add_argument("results", type=Path)
    step.add_argument("--verification", type=Path, help="default: the package's verification.json")
    args = parser.parse_args()
    if args.step == "export":
        export(args.folder)
    elif args.step == "run":
        run(args.folder, args.out, args.device, args.arch, args.requests)
    else:
        record(args.results, args.verification)


if __name__ == "__main__":
    main()
