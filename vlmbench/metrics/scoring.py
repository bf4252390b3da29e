"""Predictions of one job → per-sample scores and results.csv rows.

Scoring reads only the dataset and predictions.jsonl, so ``vlmbench
evaluate`` can rerun it after a metric changes without running a model.
Only answered samples are scored: a failed prediction is counted
(``n_errors``) and lowers coverage, it is not a wrong answer; a sample not
predicted yet (an interrupted job) lowers coverage too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from vlmbench.datasets.schema import Sample
from vlmbench.jobfiles import Prediction
from vlmbench.metrics.aggregate import AGGREGATORS, group_columns, resolve_aggregator
from vlmbench.metrics.registry import MetricError, MetricSpec, get_metric, suggest
from vlmbench.metrics.schema import ResultRow

DEFAULT_AGGREGATORS = ["general", "by_doc_type"]
_SAMPLE_FIELDS = {"id", "doc_class", "question_type", "split"}

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


def metrics_for(samples: Sequence[Sample], metrics: Sequence[str]) -> list[str]:
    """The run CSV's metrics, or defaults from the samples' question types and choices."""
    if metrics:
        return list(metrics)
    types = {s.question_type or "" for s in samples}
    if any(s.choices for s in samples):
        types.add("multiple_choice")
    return default_metrics(types)


def _column_key(samples: Sequence[Sample], column: str) -> str | None:
    """The annotation column a ``by_<column>`` aggregator names, matched ignoring case."""
    if column in _SAMPLE_FIELDS:
        return column
    wanted = column.casefold()
    for sample in samples:
        for key in sample.metadata:
            if key.casefold() == wanted:
                return key
    return None


def check_group_columns(aggregators: Sequence[str], samples: Sequence[Sample]) -> None:
    """Every ``by_<column>`` aggregator names a column some sample has; else a MetricError with close names."""
    for aggregator in aggregators:
        for column in group_columns(aggregator):
            if _column_key(samples, column) is None:
                known = sorted(_SAMPLE_FIELDS | {k for s in samples for k in s.metadata})
                raise MetricError(f"no sample has the column {column!r} that {aggregator!r} groups by",
                                  hint=suggest(column, known) + f"; or one of {', '.join(AGGREGATORS)}")


def _group_values(samples: Sequence[Sample], column: str) -> list[Any]:
    key = _column_key(samples, column)
    if key in _SAMPLE_FIELDS:
        return [getattr(s, key) for s in samples]
    return [s.metadata.get(key) if key else None for s in samples]


@dataclass
class JobScores:
    """A job's scores: results.csv rows, and the per-sample values behind them."""

    rows: list[ResultRow]
    samples: list[Sample]
    predictions: list[Prediction | None]  # aligned with samples; None: not predicted yet
    values: dict[str, np.ndarray]  # metric → one value per sample, NaN where not answered

    def jsonl(self) -> str:
        """scores.jsonl: one :class:`SampleScore` line per predicted sample (null scores if it failed).

        Formatted column by column rather than through a model per line: a
        million lines take about two seconds instead of ten.
        """
        from json.encoder import encode_basestring  # JSON string literal, non-ASCII kept as is

        kept = [i for i, prediction in enumerate(self.predictions) if prediction is not None]

        def text(values: Iterable[str | None]) -> list[str]:
            return ["null" if v is None else encode_basestring(v) for v in values]

        def number(column: np.ndarray) -> list[str]:
            return ["null" if v != v else repr(v) for v in column[kept].tolist()]

        columns = [
            text(self.samples[i].id for i in kept),
            text(self.samples[i].answer for i in kept),
            text(self.predictions[i].answer for i in kept),
            text(self.predictions[i].error for i in kept),
        ]
        names = [encode_basestring(name) for name in self.values]
        scores = [number(column) for column in self.values.values()]
        lines = [
            f'{{"id":{a},"reference":{b},"answer":{c},"error":{d},"scores":{{'
            + ",".join(f"{name}:{value}" for name, value in zip(names, values)) + "}}\n"
            for a, b, c, d, *values in zip(*columns, *scores)
        ]
        # Valid JSON may hold U+2028/U+2029 raw, but str.splitlines() and some editors break lines there.
        return "".join(lines).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


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
) -> JobScores:
    """Score the answered samples of a job, one row per (metric, aggregator, group).

    ``samples`` are all the job's planned samples. A job with no prediction
    at all has no rows (the jobs table says why). Empty ``metrics`` picks
    defaults from the samples' question types; empty ``aggregators`` means
    general + by_doc_type.
    """
    import pandas as pd

    specs: list[MetricSpec] = list({spec.name: spec for spec in map(get_metric, metrics_for(samples, metrics))}.values())
    aggregator_names = list(dict.fromkeys(map(resolve_aggregator, aggregators or DEFAULT_AGGREGATORS)))
    check_group_columns(aggregator_names, samples)  # fail before any work

    by_id = {p.id: p for p in predictions}  # a retried sample's later line wins
    if not any(s.id in by_id for s in samples):
        return JobScores(rows=[], samples=samples, predictions=[None] * len(samples), values={})
    found = [by_id.get(s.id) for s in samples]
    failed = np.array([p is not None and (p.error is not None or p.answer is None) for p in found])
    answered = np.array([p is not None for p in found]) & ~failed
    table = pd.DataFrame({"error": failed, "answered": answered})
    for column in dict.fromkeys(c for name in aggregator_names for c in group_columns(name)):
        table[column] = _group_values(samples, column)

    picked = np.flatnonzero(answered)
    answers = [found[i].answer for i in picked]
    answered_samples = [samples[i] for i in picked]
    corpus = {}
    for spec in specs:
        table[spec.name] = np.nan
        table.loc[answered, spec.name] = spec.score_many(answers, answered_samples)
        if spec.corpus is not None:
            stats = spec.corpus.stats(answers, answered_samples)
            full = np.zeros((len(samples), stats.shape[1]))
            full[picked] = stats
            corpus[spec.name] = (spec.corpus, full)

    rows = _result_rows(table, specs, aggregator_names, corpus, dict(
        job_id=job_id, model_name=model_name, framework=framework, dataset=dataset, task=task))
    values = {spec.name: table[spec.name].to_numpy() for spec in specs}
    return JobScores(rows=rows, samples=samples, predictions=found, values=values)


def _result_rows(table: Any, specs: list[MetricSpec], aggregators: list[str], corpus: dict,
                 meta: dict[str, Any]) -> list[ResultRow]:
    from vlmbench.metrics.aggregate import aggregate_scores

    direction = {spec.name: spec.higher_is_better for spec in specs}
    rows: list[ResultRow] = []
    for aggregator in aggregators:
        frame = aggregate_scores(table, list(direction), aggregator, corpus)
        for record in frame.itertuples(index=False):
            rows.append(ResultRow(
                **meta, metric=record.metric, aggregator=aggregator, group=str(record.group),
                value=float(record.value), ci_low=_optional(record.ci_low), ci_high=_optional(record.ci_high),
                n=int(record.n), n_errors=int(record.n_errors), n_total=int(record.n_total),
                coverage=int(record.n) / int(record.n_total) if record.n_total else None,
                higher_is_better=direction[record.metric],
            ))
    return rows


def _optional(value: float) -> float | None:
    return None if value != value else float(value)  # NaN → None
