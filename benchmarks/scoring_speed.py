"""Scoring speed: a million predictions with CER and ANLS and 95% bootstrap intervals.

The vlmbench side is `score_job` — per-sample CER and ANLS, the general and
by_doc_type figures, each with its bootstrap interval — then the
scores.jsonl records. The floor is the least a script could do for the
same numbers without intervals: a bare Python loop calling rapidfuzz's
Levenshtein once per pair for CER and once per reference for ANLS, then a
mean. Pairs are Russian and English field values with random edits, five
document classes, 1% failed predictions. Prints both wall times and their
ratio.

    python benchmarks/scoring_speed.py [--samples 1000000] [--repeats 2]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Iterator

from rapidfuzz.distance import Levenshtein

from vlmbench.datasets.schema import Sample
from vlmbench.metrics import score_job
from vlmbench.rundir.records import Prediction

WORDS = ["invoice", "total", "amount", "date", "seller", "buyer", "счёт", "итого", "сумма", "дата", "продавец",
         "покупатель", "1 250,00", "2024-05-03", "ООО «Ромашка»", "Moscow", "Москва", "No. 4471"]
CLASSES = ["invoice", "receipt", "passport", "form", "letter"]


def _edit(text: str, rng: random.Random) -> str:
    chars = list(text)
    for _ in range(rng.choice([0, 0, 0, 1, 1, 2, 5])):
        position = rng.randrange(len(chars) + 1)
        action = rng.random()
        if action < 0.4 and position < len(chars):
            chars[position] = rng.choice("abcdeиклмн0123")
        elif action < 0.7 and position < len(chars):
            del chars[position]
        else:
            chars.insert(position, rng.choice("abcdeиклмн0123 "))
    return "".join(chars)


def iter_pairs(n: int, seed: int = 0) -> Iterator[tuple[Sample, Prediction]]:
    """n (sample, prediction) pairs, the same for the same seed, made one at a time."""
    rng = random.Random(seed)
    for i in range(n):
        reference = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))
        sample = Sample(id=f"s{i}", question="?", answer=reference, images=[], choices=[],
                                        split=None, doc_class=CLASSES[i % len(CLASSES)],
                                        question_type="field", metadata={})
        failed = rng.random() < 0.01
        yield sample, Prediction.model_construct(id=f"s{i}", prompt="", answer=None if failed else _edit(reference, rng),
                                                 latency_s=0.0, error="boom" if failed else None)


def make_pairs(n: int, seed: int = 0) -> tuple[list[Sample], list[Prediction]]:
    samples, predictions = [], []
    for sample, prediction in iter_pairs(n, seed):
        samples.append(sample)
        predictions.append(prediction)
    return samples, predictions


def bare_loop(samples: list[Sample], predictions: list[Prediction]) -> tuple[float, float]:
    """Mean CER and ANLS over answered pairs, one rapidfuzz call per pair: the floor."""
    cer_total = anls_total = 0.0
    count = 0
    for sample, prediction in zip(samples, predictions):
        if prediction.answer is None:
            continue
        reference, answer = sample.answer, prediction.answer
        cer_total += Levenshtein.distance(reference, answer) / max(len(reference), 1)
        similarity = 1.0 - Levenshtein.normalized_distance(answer.lower(), reference.lower())
        anls_total += similarity if similarity >= 0.5 else 0.0
        count += 1
    return cer_total / count, anls_total / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    samples, predictions = make_pairs(args.samples)
    meta = {"job_id": "bench", "model_name": "m", "framework": "f", "dataset": "d", "task": None}
    best_ours = best_records = best_floor = float("inf")
    for _ in range(args.repeats):
        start = time.perf_counter()
        scores = score_job(samples, predictions, ["cer", "anls"], ["general", "by_doc_type"], **meta)
        best_ours = min(best_ours, time.perf_counter() - start)
        start = time.perf_counter()
        size = len(scores.jsonl().encode("utf-8"))
        best_records = min(best_records, time.perf_counter() - start)
        start = time.perf_counter()
        floor_cer, floor_anls = bare_loop(samples, predictions)
        best_floor = min(best_floor, time.perf_counter() - start)
    general = {r.metric: r for r in scores.rows if r.aggregator == "general"}
    print(f"{args.samples:,} predictions, CER + ANLS, general + by_doc_type, 95% bootstrap intervals")
    print(f"  vlmbench score_job:     {best_ours:6.2f} s  (cer {general['cer'].value:.4f} "
          f"[{general['cer'].ci_low:.4f}, {general['cer'].ci_high:.4f}], anls {general['anls'].value:.4f})")
    print(f"  bare rapidfuzz loop:    {best_floor:6.2f} s  (cer {floor_cer:.4f}, anls {floor_anls:.4f}; no intervals)")
    print(f"  ratio:                  {best_ours / best_floor:6.2f}")
    print(f"  scores.jsonl records:   {best_records:6.2f} s  ({size / 1e6:.0f} MB of JSON)")
    print(f"  scores + records:       {best_ours + best_records:6.2f} s  (what `vlmbench evaluate` spends scoring)")


if __name__ == "__main__":
    main()
