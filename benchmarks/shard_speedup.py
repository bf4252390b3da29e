"""What shards buy: the same `vlmbench run` with 1 shard and with N, on a CPU-bound model.

Tesseract on full pages, each worker held to one thread (OMP_THREAD_LIMIT=1)
so that a worker is one core's work: on a machine of N cores, N shards
should take about 1/N of the time. Both sides are the whole command (plan,
workers, merge, scoring, report), run in alternating pairs from a clean
output folder; prints each pair, the medians and the speed-up, and checks
that both sides gave the same answers.

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
from runner_overhead import make_benchmark_dataset  # noqa: E402

from vlmbench.rundir import RunDir  # noqa: E402


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
        one, many = [], []
        for pair in range(1, args.pairs + 1):
            single, answers_one = timed_run(config, work / "one", 1)
            split, answers_many = timed_run(config, work / "many", args.shards)
            assert answers_one == answers_many, "sharded answers differ"
            one.append(single)
            many.append(split)
            print(f"pair {pair}: 1 shard {single:7.1f} s   {args.shards} shards {split:7.1f} s   "
                  f"speed-up {single / split:.2f}x", flush=True)
        spread = f"(1 shard {min(one):.1f}–{max(one):.1f} s, {args.shards} shards {min(many):.1f}–{max(many):.1f} s)"
        print(f"{args.samples} pages, {args.model}, {os.cpu_count()} cores: median 1 shard "
              f"{statistics.median(one):.1f} s, {args.shards} shards {statistics.median(many):.1f} s, "
              f"speed-up {statistics.median(one) / statistics.median(many):.2f}x {spread}")


if __name__ == "__main__":
    main()
