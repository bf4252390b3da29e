"""Predictions of one job → results.csv rows.

Scoring reads only the dataset and predictions.jsonl, so ``vlmbench
evaluate`` can rerun it after a metric changes without running a model.
"""

from __future__ import annotations

import re

from vlmbench.datasets.schema import Sample
from vlmbench.jobfiles import Prediction
from vlmbench.metrics.aggregate import aggregate_scores, resolve_aggregator
from vlmbench.metrics.registry import get_metric
from vlmbench.metrics.schema import ResultRow

DEFAULT_AGGREGATORS = ["general", "by_doc_type"]

# question_type (as datasets spell it) → the metrics that suit its answers
_METRICS_BY_QUESTION_TYPE: dict[str, list[str]] = {
    "full_text": ["cer", "wer"],
    "ocr": ["cer", "wer"],
    "field": ["anls", "exact_match"],
    "fields": ["anls", "exact_match"],
    # Whole-string scores of a JSON reply mostly measure its key order and spacing.
    "fields_json": ["field_f1"],
    "json": ["anls", "exact_match"],
    "multiple_choice": ["accuracy"],
    "multi_choice": ["accuracy"],
    "mcq": ["accuracy"],
    "choice": ["accuracy"],
}
_FALLBACK_METRICS = ["exact_match", "anls"]
_METRIC_ORDER = ["accuracy", "exact_match", "anls", "field_f1", "cer", "wer"]


def default_metrics(question_types: set[str]) -> list[str]:
    """Metrics for a run CSV row that names none, from the dataset's question types."""
    keys = {re.sub(r"[\s\-]+", "_", (t or "").strip().casefold()) for t in question_types}
    # Samples without a question_type add nothing when others name one: a
    # multiple-choice set whose rows leave it blank should get accuracy only.
    keys.discard("")
    chosen: set[str] = set()
    for key in keys or {""}:
        chosen.update(_METRICS_BY_QUESTION_TYPE.get(key, _FALLBACK_METRICS))
    return sorted(chosen, key=_METRIC_ORDER.index)


def score_job(
    samples: list[Sample],
    predictions: list[Prediction],
    metrics: list[str],
    aggregators: list[str],
    *,
    job_id: str,
    model_name: str,
    framework: str,
    dataset: str,
    task: str | None,
) -> list[ResultRow]:
    """Score the samples that have a prediction, one row per (metric, aggregator, group).

    A job may be partial (interrupted, or still running): samples without a
    prediction are left out, not scored as wrong, and ``n`` says how many
    counted. A prediction with an error or no answer scores as "" and is
    counted in ``n_errors``. Empty ``metrics`` picks defaults from the
    samples' question types; empty ``aggregators`` means general + by_doc_type.
    """
    import pandas as pd

    if not metrics:
        types = {s.question_type or "" for s in samples}
        if any(s.choices for s in samples):
            types.add("multiple_choice")
        metrics = default_metrics(types)
    specs = list({spec.name: spec for spec in map(get_metric, metrics)}.values())  # fail before any work
    aggregator_names = list(dict.fromkeys(map(resolve_aggregator, aggregators or DEFAULT_AGGREGATORS)))

    by_id = {p.id: p for p in predictions}  # a retried sample's later line wins
    scored = [(s, by_id[s.id]) for s in samples if s.id in by_id]
    if not scored:
        return []
    table = pd.DataFrame(
        {
            "id": [s.id for s, _ in scored],
            "doc_class": [s.doc_class for s, _ in scored],
            "question_type": [s.question_type for s, _ in scored],
            "error": [p.error is not None or p.answer is None for _, p in scored],
        }
    )
    answers = ["" if failed else (p.answer or "") for failed, (_, p) in zip(table["error"], scored)]
    for spec in specs:
        table[spec.name] = [spec(answer, sample) for answer, (sample, _) in zip(answers, scored)]

    direction = {spec.name: spec.higher_is_better for spec in specs}
    rows: list[ResultRow] = []
    for aggregator in aggregator_names:
        for record in aggregate_scores(table, list(direction), aggregator).itertuples(index=False):
            rows.append(
                ResultRow(
                    job_id=job_id,
                    model_name=model_name,
                    framework=framework,
                    dataset=dataset,
                    task=task,
                    metric=record.metric,
                    aggregator=aggregator,
                    group=str(record.group),
                    value=float(record.value),
                    ci_low=None if pd.isna(record.ci_low) else float(record.ci_low),
                    ci_high=None if pd.isna(record.ci_high) else float(record.ci_high),
                    n=int(record.n),
                    n_errors=int(record.n_errors),
                    higher_is_better=direction[record.metric],
                )
            )
    return rows
