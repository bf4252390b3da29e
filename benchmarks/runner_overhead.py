"""What the runner costs beside the model: `vlmbench run` against a bare loop.

Both sides answer the same samples with the same model class, parameters
and batch size. The bare loop is the least a script could do: load the
model once, open each image, call `generate` batch by batch. The runner
side is the whole `vlmbench run` command, subprocess worker, prediction
files, scoring and report included. Prints the ratio of wall times, and of
CPU times (user + system, children included), which a busy machine disturbs
less. With --repeats N the two sides alternate and the best of each counts.

    python benchmarks/runner_overhead.py [--samples 1000] [--repeats 2] [--model tesseract-rus-eng]
"""

from __future__ import annotations

import argparse
import resource
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


def cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def bare_loop(dataset_dir: Path, model_name: str, batch_size: int) -> tuple[float, float]:
    row = load_catalog().get(model_name)
    dataset = load_dataset(dataset_dir)
    start, cpu = time.perf_counter(), cpu_seconds(resource.RUSAGE_SELF)
    model = resolve_model_class(row.class_path)(weights=row.weights, **row.params)
    answers = []
    for first in range(0, len(dataset.samples), batch_size):
        batch = dataset.samples[first:first + batch_size]
        requests = [Request(prompt=s.question, images=[load_image(dataset.root, p) for p in s.images]) for s in batch]
        answers += model.generate(requests)
    model.close()
    assert len(answers) == len(dataset.samples)
    return time.perf_counter() - start, cpu_seconds(resource.RUSAGE_SELF) - cpu


def through_runner(dataset_dir: Path, model_name: str, batch_size: int, work: Path) -> tuple[float, float]:
    config = work / "bench.csv"
    config.write_text(f"model_name,dataset,batch_size,metrics\n{model_name},{dataset_dir},{batch_size},CER\n")
    start, cpu = time.perf_counter(), cpu_seconds(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-m", "vlmbench", "run", str(config), "--out", str(work / "run"),
                    "--no-resume"], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start, cpu_seconds(resource.RUSAGE_CHILDREN) - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--model", default="tesseract-rus-eng")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    bare, runner = [], []
    with tempfile.TemporaryDirectory(prefix="vlmbench-bench-") as tmp:
        work = Path(tmp)
        dataset_dir = make_benchmark_dataset(work / "data", args.samples)
        for repeat in range(args.repeats):
            # Alternate which side goes first, so a slow stretch of the machine hits both.
            sides = [("bare", bare, lambda: bare_loop(dataset_dir, args.model, args.batch_size)),
                     ("run", runner, lambda: through_runner(dataset_dir, args.model, args.batch_size, work))]
            for name, results, measure in sides[:: 1 if repeat % 2 == 0 else -1]:
                results.append(measure())
                print(f"  {name}: {results[-1][0]:.1f} s wall, {results[-1][1]:.1f} s CPU", flush=True)
    (bare_wall, bare_cpu), (run_wall, run_cpu) = min(bare), min(runner)
    print(f"samples: {args.samples}  model: {args.model}  batch size: {args.batch_size}  repeats: {args.repeats}")
    print(f"bare loop:      {bare_wall:8.1f} s wall ({args.samples / bare_wall:6.1f} samples/s), {bare_cpu:8.1f} s CPU")
    print(f"vlmbench run:   {run_wall:8.1f} s wall ({args.samples / run_wall:6.1f} samples/s), {run_cpu:8.1f} s CPU")
    print(f"ratio run/bare: {run_wall / bare_wall:8.3f} wall, {run_cpu / bare_cpu:8.3f} CPU")


if __name__ == "__main__":
    main()
