"""A no-op rerun: `vlmbench run` again on a finished ~10,000-sample run, nothing changed, beside its floor.

The first run answers easy-VQA's 9,673 test questions with the majority-answer
baseline (fast, so the first run is quick too) and scores them with exact
match, ANLS and VQA score. Then, in alternating pairs so that both sides see
the same machine load, the floor (`python -c pass`: starting an interpreter
at all) and the same `vlmbench run` again, which finds every job done and the
scores and report up to date and prints the results table; and the floor
beside `vlmbench evaluate` with nothing changed. Prints each side's median and
spread (min–max) and asserts nothing was rewritten.

    python benchmarks/noop_rerun.py [--samples 10000] [--pairs 7] [--out DIR]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from userenv import user_environment

FLOOR = [sys.executable, "-c", "pass"]
USER_ENV = user_environment()


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=USER_ENV)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    return elapsed


def vlmbench(*args: str) -> list[str]:
    return [sys.executable, "-m", "vlmbench", *args]


def stamps(out: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime) of every file a no-op must leave alone (run.json is the plan, written each run)."""
    from vlmbench.rundir import RunDir

    planned = {RunDir(out).record_file, RunDir(out).lock_file}
    return {str(p.relative_to(out)): (p.stat().st_ino, p.stat().st_mtime_ns) for p in sorted(out.rglob("*"))
            if p.is_file() and p not in planned}


def pairs(command: list[str], n: int) -> tuple[list[float], list[float]]:
    """n alternating (floor, command) timings, the floor first in odd pairs and second in even ones."""
    floors, ours = [], []
    for i in range(n):
        if i % 2:
            ours.append(timed(command))
            floors.append(timed(FLOOR))
        else:
            floors.append(timed(FLOOR))
            ours.append(timed(command))
    return floors, ours


def line(label: str, times: list[float]) -> str:
    return (f"  {label:<34} median {statistics.median(times):5.2f} s   "
            f"spread {min(times):.2f}–{max(times):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--out", type=Path, help="keep the run here (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.out or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        config = folder / "run.csv"
        config.write_text("model_name,dataset,metrics,limit\n"
                          f"majority-easy-vqa,easy-vqa,\"['exact_match', 'anls', 'vqa_score']\",{args.samples}\n")
        out = folder / "out"
        first = timed(vlmbench("run", str(config), "--out", str(out)))
        timed(vlmbench("run", str(config), "--out", str(out)))  # warms the OS file cache as a user's rerun finds it
        before = stamps(out)
        run_floor, rerun = pairs(vlmbench("run", str(config), "--out", str(out)), args.pairs)
        eval_floor, evaluate = pairs(vlmbench("evaluate", str(out)), args.pairs)
        changed = sorted(name for name, stamp in stamps(out).items() if before.get(name) != stamp)
    print(f"first run ({args.samples:,} samples asked, model + scoring + report): {first:.2f} s")
    print(f"no-op rerun, {args.pairs} alternating pairs:")
    print(line("floor: python -c pass", run_floor))
    print(line("vlmbench run (nothing changed)", rerun))
    print(f"  difference of medians: {statistics.median(rerun) - statistics.median(run_floor):.2f} s")
    print(f"evaluate with nothing changed, {args.pairs} alternating pairs:")
    print(line("floor: python -c pass", eval_floor))
    print(line("vlmbench evaluate", evaluate))
    print(f"files rewritten by the reruns: {', '.join(changed) if changed else 'none'}")


if __name__ == "__main__":
    main()
