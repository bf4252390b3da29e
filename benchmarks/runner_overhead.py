"""What the runner costs beside the model: `vlmbench run` against a bare loop.

Both sides answer the same samples with the same model class, parameters
and batch size. The bare loop is the least a script could do: load the
model once, open each image, call `generate` batch by batch. The runner
side is the whole `vlmbench run` command, subprocess worker, prediction
files, scoring and report included. Prints the ratio of wall times.

    python benchmarks/runner_overhead.py [--samples 1000] [--model tesseract-rus-eng]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vlmbench.catalog import load_catalog
from vlmbench.datasets import load_dataset, load_image, make_bundled
from vlmbench.models.base import Request
from vlmbench.registry import resolve_model_class


def make_benchmark_dataset(target: Path, samples: int) -> Path:
    """`samples` full-text questions cycling over the bundled Russian and English documents."""
    lines = ["data_index;split;image_path;question;answer;doc_class;question_type"]
    (target / "images").mkdir(parents=True)
    sources = []
    for name in ("synthetic-docs-ru", "synthetic-docs-en"):
        dataset = load_dataset(make_bundled(name))
        for sample in dataset.samples:
            if sample.question_type == "full_text":
                copy = target / "images" / f"{name}-{Path(sample.images[0]).name}"
                shutil.copyfile(dataset.root / sample.images[0], copy)
                sources.append((copy.relative_to(target).as_posix(), sample))
    for index in range(samples):
        image, sample = sources[index % len(sources)]
        answer = sample.answer.replace("\n", " ").replace(";", ",")
        lines.append(f"b{index};test;{image};{sample.question};{answer};{sample.doc_class};full_text")
    (target / "annotation.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def bare_loop(dataset_dir: Path, model_name: str, batch_size: int) -> float:
    row = load_catalog().get(model_name)
    dataset = load_dataset(dataset_dir)
    start = time.perf_counter()
    model = resolve_model_class(row.class_path)(weights=row.weights, **row.params)
    answers = []
    for first in range(0, len(dataset.samples), batch_size):
        batch = dataset.samples[first:first + batch_size]
        requests = [Request(prompt=s.question, images=[load_image(dataset.root, p) for p in s.images]) for s in batch]
        answers += model.generate(requests)
    model.close()
    assert len(answers) == len(dataset.samples)
    return time.perf_counter() - start


def through_runner(dataset_dir: Path, model_name: str, batch_size: int, work: Path) -> float:
    config = work / "bench.csv"
    config.write_text(f"model_name,dataset,batch_size,metrics\n{model_name},{dataset_dir},{batch_size},CER\n")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "vlmbench", "run", str(config), "--out", str(work / "run"),
                    "--no-resume"], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--model", default="tesseract-rus-eng")
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vlmbench-bench-") as tmp:
        work = Path(tmp)
        dataset_dir = make_benchmark_dataset(work / "data", args.samples)
        bare = bare_loop(dataset_dir, args.model, args.batch_size)
        runner = through_runner(dataset_dir, args.model, args.batch_size, work)
    print(f"samples: {args.samples}  model: {args.model}  batch size: {args.batch_size}")
    print(f"bare loop:      {bare:8.1f} s  ({args.samples / bare:6.1f} samples/s)")
    print(f"vlmbench run:   {runner:8.1f} s  ({args.samples / runner:6.1f} samples/s)")
    print(f"ratio run/bare: {runner / bare:8.3f}")


if __name__ == "__main__":
    main()
