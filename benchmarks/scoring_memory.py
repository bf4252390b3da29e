"""Scoring memory: peak RSS of scoring a million predictions from predictions.jsonl, beside its floor.

Each measurement is a fresh process, whose own peak RSS (``ru_maxrss``) is
reported. The floor process builds the samples (the references, as a loaded
dataset holds them: one ``Sample`` each) and reads predictions.jsonl line by
line, keeping nothing: what any scorer of these files needs at least. The
scoring process builds the same samples, then does what `vlmbench evaluate`
does for a job: reads the predictions, scores CER and ANLS with the general
and by_doc_type figures and their bootstrap intervals, and writes
scores.jsonl and metrics.json. Floor and scoring run in alternating pairs;
medians and spread are printed, with the scoring's peak above the floor.

The pairs are those of benchmarks/scoring_speed.py (Russian and English
field values with random edits, 1% failed). ``--code DIR`` measures another
copy of vlmbench's source (say, the commit before: ``git archive HEAD
vlmbench | tar -x -C DIR``); each scoring process prints a digest of its
scores.jsonl and result rows, so two versions can be checked to agree.

    python benchmarks/scoring_memory.py [--samples 1000000] [--pairs 3] [--code DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

CHILD = r"""
import hashlib, json, resource, sys
sys.path.insert(0, sys.argv[4])
from scoring_speed import iter_pairs
from vlmbench.rundir import JobDir

mode, n, job = sys.argv[1], int(sys.argv[2]), JobDir(sys.argv[3])
import vlmbench
print("vlmbench from", vlmbench.__file__, file=sys.stderr)
samples = [sample for sample, _ in iter_pairs(n)]
report = {}
if mode == "floor":
    with job.predictions_file.open("rb") as handle:
        report["lines"] = sum(1 for _ in handle)
else:
    from vlmbench.metrics import score_job
    from vlmbench.rundir.records import JobMetrics

    read = getattr(job, "read_prediction_rows", job.read_predictions)
    predictions = read()
    scores = score_job(samples, predictions, ["cer", "anls"], ["general", "by_doc_type"], job_id="bench",
                       model_name="m", framework="f", dataset="d", task=None)
    pieces = scores.jsonl_pieces() if hasattr(scores, "jsonl_pieces") else scores.jsonl()
    job.write_scores(pieces, JobMetrics(inputs="bench", references_fingerprint="bench", rows=scores.rows))
    digest = hashlib.sha256()
    with job.scores_file.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    report["scores_jsonl"] = digest.hexdigest()[:16]
    rows = [row.model_dump(mode="json") for row in scores.rows]
    report["rows"] = hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()[:16]
    general = {r["metric"]: r["value"] for r in rows if r["aggregator"] == "general"}
    report["general"] = general
report["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
print(json.dumps(report))
"""


def write_predictions(job: Path, n: int) -> None:
    """predictions.jsonl for the first n pairs, written a line at a time (this process keeps none)."""
    sys.path.insert(0, str(HERE))
    from scoring_speed import iter_pairs

    from vlmbench.rundir import JobDir

    job.mkdir(parents=True, exist_ok=True)
    with JobDir(job).predictions_file.open("w", encoding="utf-8") as handle:
        for _, prediction in iter_pairs(n):
            handle.write(prediction.model_dump_json() + "\n")


def measure(mode: str, n: int, job: Path, code: Path) -> dict:
    environment = {**os.environ, "PYTHONPATH": str(code)}
    # Run from the job's folder: `python -c` puts the working directory first on the path, before --code.
    result = subprocess.run([sys.executable, "-c", CHILD, mode, str(n), str(job), str(HERE)], env=environment,
                            cwd=job.parent, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{mode} process failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def spread(values: list[float]) -> str:
    return f"median {statistics.median(values):7.0f} MB   spread {min(values):.0f}–{max(values):.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--code", type=Path, default=ROOT, help="the folder holding the vlmbench package to measure")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        job = Path(tmp) / "job"
        write_predictions(job, args.samples)
        floors, peaks, digests = [], [], set()
        for i in range(args.pairs):
            order = ("floor", "score") if i % 2 == 0 else ("score", "floor")
            for mode in order:
                report = measure(mode, args.samples, job, args.code.resolve())
                (floors if mode == "floor" else peaks).append(report["peak_mb"])
                if mode == "score":
                    digests.add((report["scores_jsonl"], report["rows"], json.dumps(report["general"])))
    print(f"{args.samples:,} predictions, CER + ANLS, general + by_doc_type with 95% bootstrap intervals, "
          f"scores.jsonl written ({args.code}), {args.pairs} alternating pairs, peak RSS:")
    print(f"  floor (samples held, predictions.jsonl read through): {spread(floors)}")
    print(f"  scoring, as `vlmbench evaluate` does a job:          {spread(peaks)}")
    print(f"  scoring above its floor: {statistics.median(peaks) - statistics.median(floors):.0f} MB (medians)")
    for scores_jsonl, rows, general in sorted(digests):
        print(f"  scores.jsonl sha256 {scores_jsonl}, result rows sha256 {rows}, general {general}")


if __name__ == "__main__":
    main()
