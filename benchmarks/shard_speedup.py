"""What shards buy: the same `vlmbench run` with 1 shard and with N, on a CPU-bound model.

Tesseract on full pages, each worker held to one thread (OMP_THREAD_LIMIT=1)
so that a worker is one core's work: on a machine of N cores, N shards
should take about 1/N of the time. Both sides are the whole command (plan,
workers, merge, scoring, report), run in alternating pairs from a clean
output folder; prints each pair, the medians and the speed-up, and checks
that both sides gave the same answers. The floor beside it: the bare model
loop (no vlmbench) over all pages in one process, and over every N-th page
in each of N processes side by side — the speed-up this machine itself
gives N processes, which no runner can pass.

    python benchmarks/shard_speedup.py [--samples 200] [--shards 2] [--pairs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from runner_overhead import make_benchmark_dataset

from vlmbench.rundir import RunDir


def timed_run(config: Path, out: Path, shards: int) -> tuple[float, dict[str, str | None]]:
    if out.exists():
        shutil.rmtree(out)
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "vlmbench", "run", str(config), "--out", str(out),
                    "--shards", str(shards)], check=True, stdout=subprocess.DEVNULL, env=env)
    seconds = time.perf_counter() - start
    (job,) = RunDir(out).job_dirs()
    return seconds, {p.id: p.answer for p in job.read_predictions()}


BARE = """
import sys, time
from vlmbench.catalog import load_catalog
from vlmbench.datasets import load_dataset, load_image
from vlmbench.models.base import Request
from vlmbench.registry import resolve_model_class
root, model_name, index, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
row = load_catalog().get(model_name)
dataset = load_dataset(root)
model = resolve_model_class(row.class_path)(weights=row.weights, **row.params)
for sample in dataset.samples[index::count]:
    model.generate([Request(prompt=sample.question, images=[load_image(dataset.root, p) for p in sample.images])])
model.close()
"""


def bare_processes(dataset: Path, model: str, count: int) -> float:
    """Wall time of `count` bare loops side by side, each over every count-th page."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    start = time.perf_counter()
    processes = [subprocess.Popen([sys.executable, "-c", BARE, str(dataset), model, str(i), str(count)], env=env)
                 for i in range(count)]
    assert all(process.wait() == 0 for process in processes)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--model", default="tesseract-rus-eng")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        dataset = make_benchmark_dataset(work / "pages", args.samples)
        config = work / "bench.csv"
        config.write_text(f"model_name,dataset,batch_size,metrics\n{args.model},{dataset},1,CER\n")
        one, many, bare_one, bare_many = [], [], [], []
        for pair in range(1, args.pairs + 1):
            single, answers_one = timed_run(config, work / "one", 1)
            split, answers_many = timed_run(config, work / "many", args.shards)
            assert answers_one == answers_many, "sharded answers differ"
            one.append(single)
            many.append(split)
            bare_one.append(bare_processes(dataset, args.model, 1))
            bare_many.append(bare_processes(dataset, args.model, args.shards))
            print(f"pair {pair}: vlmbench 1 shard {single:6.1f} s, {args.shards} shards {split:6.1f} s "
                  f"({single / split:.2f}x);  bare loop 1 process {bare_one[-1]:6.1f} s, {args.shards} "
                  f"processes {bare_many[-1]:6.1f} s ({bare_one[-1] / bare_many[-1]:.2f}x)", flush=True)
        median = statistics.median
        print(f"{args.samples} pages, {args.model}, {os.cpu_count()} cores, medians of {args.pairs} pairs:")
        print(f"  vlmbench run:  1 shard {median(one):6.1f} s, {args.shards} shards {median(many):6.1f} s, "
              f"speed-up {median(one) / median(many):.2f}x (spread {min(one):.1f}–{max(one):.1f} s, "
              f"{min(many):.1f}–{max(many):.1f} s)")
        print(f"  bare loop:     1 process {median(bare_one):6.1f} s, {args.shards} processes "
              f"{median(bare_many):6.1f} s, speed-up {median(bare_one) / median(bare_many):.2f}x")


if __name__ == "__main__":
    main()
