"""How fast the command line starts: `--help`, `list-models`, `validate` of the demo CSV.

Each command is timed in alternating pairs with `python -c pass` (the floor: an
interpreter that starts and stops), so a busy machine slows both sides of a pair
alike. The table shows each side's median and spread (the middle half of the
runs: 25th to 75th percentile), the median's excess over the floor, and the
ratio of the medians. The targets of issue 13 are wall times: --help 0.2 s,
list-models 0.3 s, validate 0.5 s.

`--baseline DIR` times another source tree of vlmbench (say `git archive HEAD
vlmbench configs | tar -x -C DIR`) in the same rounds, floor / baseline / this
tree, so that a before-and-after comparison sees the same load.

    python benchmarks/cli_startup.py [--pairs 15] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from userenv import user_environment

REPO = Path(__file__).resolve().parents[1]
FLOOR = (sys.executable, "-c", "pass")
USER_ENV = user_environment()
# (label, arguments, target seconds)
COMMANDS = (
    ("--help", ("--help",), 0.2),
    ("list-models", ("list-models",), 0.3),
    ("validate demo", ("validate", str(REPO / "configs" / "demo.csv")), 0.5),
)


def vlmbench_command() -> tuple[str, ...]:
    """The installed console script, as a user types it; `python -m vlmbench` where none is installed."""
    script = Path(sys.executable).with_name("vlmbench")
    return (str(script),) if script.exists() else (sys.executable, "-m", "vlmbench")


def seconds(command: tuple[str, ...], source: Path | None = None) -> float:
    # A source tree on PYTHONPATH is found before the installed (editable) vlmbench.
    env = USER_ENV if source is None else {**USER_ENV, "PYTHONPATH": str(source)}
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO, env=env)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}{result.stderr}")
    return elapsed


def summary(values: list[float]) -> str:
    low, _, high = statistics.quantiles(values, n=4)
    return f"{statistics.median(values):>6.3f} ({low:.3f}-{high:.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=15, help="Alternating rounds per command.")
    parser.add_argument("--baseline", type=Path, help="Another vlmbench source tree, timed in the same rounds.")
    args = parser.parse_args()
    base = vlmbench_command()
    print(f"{args.pairs} alternating rounds per command; {' '.join(base)}; seconds: median (25th-75th pct.)")
    sides = ["floor", *(["baseline"] if args.baseline else []), "vlmbench"]
    print(f"{'command':<14}" + "".join(f"{side:>22}" for side in sides) + f"{'excess':>8}{'ratio':>7}{'target':>7}")
    for label, arguments, target in COMMANDS:
        seconds(base + arguments)  # warm the file and bytecode caches before timing
        if args.baseline:
            seconds(base + arguments, args.baseline)
        times: dict[str, list[float]] = {side: [] for side in sides}
        for _ in range(args.pairs):
            times["floor"].append(seconds(FLOOR))
            if args.baseline:
                times["baseline"].append(seconds(base + arguments, args.baseline))
            times["vlmbench"].append(seconds(base + arguments))
        floor, ours = statistics.median(times["floor"]), statistics.median(times["vlmbench"])
        print(f"{label:<14}" + "".join(f"{summary(times[side]):>22}" for side in sides)
              + f"{ours - floor:>8.3f}{ours / floor:>7.1f}{target:>7.1f}")


if __name__ == "__main__":
    main()
