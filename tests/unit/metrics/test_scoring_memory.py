"""Scoring holds little beyond the samples: peak RSS of a scoring process, measured beside its floor."""

import json
import subprocess
import sys
from pathlib import Path

N = 100_000
# What scoring may hold beyond the samples, per prediction (its light row, its place in the score table, the
# per-group columns) and in all (a slice of a metric's working copies, a chunk of bootstrap draws, a slice
# of scores.jsonl). Scoring as it was (a pydantic record per prediction, the whole scores.jsonl as one
# string) took 2.8 KB per prediction beyond the samples.
PER_PREDICTION_BYTES = 1_000
FIXED_BYTES = 80 * 2**20

CHILD = r"""
import json, random, resource, sys
from vlmbench.datasets.schema import Sample
from vlmbench.rundir import JobDir

mode, n, job = sys.argv[1], int(sys.argv[2]), JobDir(sys.argv[3])
classes = ["invoice", "receipt", "passport", "form", "letter"]
samples = [Sample(id=f"s{i}", question="?", answer=f"field value {i % 997} of row {i}", images=[],
                                  choices=[], split=None, doc_class=classes[i % 5], question_type="field",
                                  metadata={}) for i in range(n)]
import numpy, pandas  # both sides pay for the libraries
from vlmbench.metrics import score_job
from vlmbench.rundir.records import JobMetrics, Prediction

if mode == "write":
    rng = random.Random(0)
    job.rewrite_predictions([Prediction(id=s.id, prompt="Read the field", answer=None if rng.random() < 0.01 else
                                        s.answer[: rng.randint(5, len(s.answer))], latency_s=0.1,
                                        error=None) for s in samples])
elif mode == "floor":
    with job.predictions_file.open("rb") as handle:
        sum(1 for _ in handle)
else:
    scores = score_job(samples, job.read_prediction_rows(), ["cer", "anls"], ["general", "by_doc_type"],
                       job_id="j", model_name="m", framework="f", dataset="d", task=None)
    job.write_scores(scores.jsonl_pieces(), JobMetrics(inputs="k", references_fingerprint="r", rows=scores.rows))
print(json.dumps(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024))
"""


def peak_bytes(mode: str, job: Path) -> int:
    result = subprocess.run([sys.executable, "-c", CHILD, mode, str(N), str(job)], capture_output=True, text=True,
                            check=True, cwd=Path(__file__).resolve().parents[3])
    return json.loads(result.stdout.splitlines()[-1])


def test_scoring_a_job_holds_a_bounded_amount_per_prediction_beyond_its_samples(tmp_path):
    job = tmp_path / "job"
    job.mkdir()
    peak_bytes("write", job)
    floor = peak_bytes("floor", job)
    scoring = peak_bytes("score", job)
    lines = (job / "scores.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == N and json.loads(lines[-1])["id"] == f"s{N - 1}"
    assert scoring - floor < FIXED_BYTES + PER_PREDICTION_BYTES * N, (
        f"scoring {N:,} predictions peaked {(scoring - floor) / 2**20:.0f} MB above its floor")
