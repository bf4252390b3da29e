"""Crash safety by a kill loop, at more kills than CI's: kill hosts, workers and containers at random.

The same driver as tests/integration/test_kill_loop.py and tests/docker/test_kill_loop_docker.py
(tests/killloop.py says what is killed and what is checked): an uninterrupted reference run, then
cycles of runs killed at seeded random moments, each folder rerun to the end and held to the
reference. Prints one line of figures per executor and exits 1 if any sample was lost, duplicated,
corrupt, wrong or stuck.

    python benchmarks/kill_loop.py [--kills 200] [--executor local --executor docker --executor slurm] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.killloop import KillLoop, run_and_record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=200, help="kills per executor")
    parser.add_argument("--executor", action="append", choices=["local", "docker", "slurm"],
                        help="repeat for several (default: local)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=3, help="jobs per run")
    parser.add_argument("--samples", type=int, default=8, help="samples per job")
    parser.add_argument("--delay", type=float, default=0.15, help="the echo model's seconds per sample")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    parser.add_argument("--verbose", action="store_true", help="a line per killed run")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="vlmbench-kill-loop-") as tmp:
        for executor in args.executor or ["local"]:
            extra = {}
            if executor == "docker":
                from vlmbench.docker.build import build_images
                from vlmbench.docker.engine import connect

                [built] = build_images(["cpu"])
                if not built.ok:
                    raise SystemExit(f"building {built.tag} failed: {built.error}")
                extra = {"image": built.tag, "docker_client": connect()}
            loop = KillLoop(Path(tmp) / executor, executor=executor, seed=args.seed, n_jobs=args.jobs,
                            n_samples=args.samples, delay_s=args.delay,
                            log=print if args.verbose else None, **extra)
            results.append(run_and_record(loop, args.kills))
    if args.json:
        args.json.write_text(json.dumps([figures.as_dict() for figures in results], indent=2))
    print()
    print(f"{'executor':<9} {'kills':>6} {'samples':>8} {'lost':>5} {'dup':>5} {'corrupt':>8} {'wrong':>6} "
          f"{'stuck':>6} {'seconds':>8}")
    for f in results:
        print(f"{f.executor:<9} {f.total_kills:>6} {f.samples_checked:>8} {f.lost:>5} {f.duplicated:>5} "
              f"{f.corrupt:>8} {f.wrong:>6} {f.stuck:>6} {f.seconds:>8.0f}")
    sys.exit(0 if all(f.ok() for f in results) else 1)


if __name__ == "__main__":
    main()
