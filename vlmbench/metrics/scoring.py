"""Predictions of one job → per-sample scores and results.csv rows.

Scoring reads only the dataset and predictions.jsonl, so ``vlmbench
evaluate`` can rerun it after a metric changes without running a model.
Only answered samples are scored: a failed prediction is counted
(``n_errors``) and lowers coverage, it is not a wrong answer; a sample not
predicted yet (an interrupted job) lowers coverage too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import compress, repeat
from operator import attrgetter, is_not
from typing import Any

import numpy as np

from vlmbench.datasets.schema import Sample
from vlmbench.metrics.aggregate import AGGREGATORS, group_columns, resolve_aggregator
from vlmbench.metrics.registry import MetricError, MetricSpec, get_metric
from vlmbench.rundir import PredictionRow
from vlmbench.rundir.records import Prediction, ResultRow
from vlmbench.suggest import suggest

DEFAULT_AGGREGATORS = ["general", "by_doc_type"]
JSONL_PIECE_LINES = 10_000  # scores.jsonl lines built at once: ~15 MB in flight, not the whole file's
SCORE_SLICE = 50_000  # answers a metric scores at once
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
    """Each ``by_<column>`` aggregator names a column some sample has, or a MetricError names close ones."""
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
    predictions: list[Prediction | PredictionRow | None]  # aligned with samples; None: not predicted yet
    values: dict[str, np.ndarray]  # metric → one value per sample, NaN where not answered

    def jsonl(self) -> str:
        """scores.jsonl: one :class:`SampleScore` line per predicted sample (null scores if it failed)."""
        return "".join(self.jsonl_pieces())

    def jsonl_pieces(self, lines: int = JSONL_PIECE_LINES) -> Iterator[str]:
        """:meth:`jsonl` a slice of ``lines`` lines at a time, so that memory holds one slice, not the file.

        Each slice is built column by column with C-level ``map``/``join``
        rather than a model or an f-string per line: a million lines take
        about a second and a half instead of ten.
        """
        kept = np.flatnonzero(np.fromiter((p is not None for p in self.predictions), dtype=bool,
                                          count=len(self.predictions)))
        for begin in range(0, len(kept), lines):
            yield self._lines(kept[begin:begin + lines])

    def _lines(self, kept: np.ndarray) -> str:
        from json.encoder import encode_basestring  # JSON string literal, non-ASCII kept as is

        rows = kept.tolist()
        samples = [self.samples[i] for i in rows]
        predictions = [self.predictions[i] for i in rows]

        def text(values: Iterable[str | None]) -> list[str]:
            return [encode_basestring(v) if v is not None else "null" for v in values]

        def number(column: np.ndarray) -> list[str]:
            picked = column[kept]
            formatted = list(map(repr, picked.tolist()))
            for i in np.flatnonzero(np.isnan(picked)).tolist():
                formatted[i] = "null"
            return formatted

        pieces: list[Iterable[str]] = [
            repeat('{"id":'), text(map(attrgetter("id"), samples)),
            repeat(',"reference":'), text(map(attrgetter("answer"), samples)),
            repeat(',"answer":'), text(map(attrgetter("answer"), predictions)),
            repeat(',"error":'), text(map(attrgetter("error"), predictions)),
            repeat(',"scores":{'),
        ]
        for n, (name, column) in enumerate(self.values.items()):
            pieces += [repeat(("," if n else "") + encode_basestring(name) + ":"), number(column)]
        pieces.append(repeat("}}\n"))
        text_out = "".join(map("".join, zip(*pieces)))
        # Valid JSON may hold U+2028/U+2029 raw, but str.splitlines() and some editors break lines there.
        for separator in ("\u2028", "\u2029"):
            if separator in text_out:  # a scan, where a replace would copy the slice for nothing
                text_out = text_out.replace(separator, separator.encode("unicode_escape").decode())
        return text_out


def score_job(
    samples: list[Sample],
    predictions: Iterable[Prediction] | Mapping[str, Prediction | PredictionRow],
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

    ``samples`` are all the job's planned samples; a prediction of any other
    sample is left out. ``predictions`` may be the light rows by id of
    :meth:`JobDir.read_prediction_rows` (what `vlmbench evaluate` reads: a
    tenth of the memory, and no second index of a million ids). A job with no prediction of its samples has no
    rows (the jobs table says why). Empty ``metrics`` picks
    defaults from the samples' question types; empty ``aggregators`` means
    general + by_doc_type.
    """
    import pandas as pd

    resolved = map(get_metric, metrics_for(samples, metrics))
    specs: list[MetricSpec] = list({spec.name: spec for spec in resolved}.values())  # named twice: once
    aggregator_names = list(dict.fromkeys(map(resolve_aggregator, aggregators or DEFAULT_AGGREGATORS)))
    check_group_columns(aggregator_names, samples)  # fail before any work

    # By id, a retried sample's later line winning.
    by_id = predictions if isinstance(predictions, Mapping) else {p.id: p for p in predictions}
    found = list(map(by_id.get, map(attrgetter("id"), samples)))
    predicted = np.fromiter(map(is_not, found, repeat(None)), dtype=bool, count=len(found))
    if not predicted.any():
        return JobScores(rows=[], samples=samples, predictions=found, values={})
    answered = predicted.copy()
    answered[predicted] = [p.error is None and p.answer is not None for p in compress(found, predicted)]
    failed = predicted & ~answered
    table = pd.DataFrame({"error": failed, "answered": answered})
    for column in dict.fromkeys(c for name in aggregator_names for c in group_columns(name)):
        # Held as the samples' own objects: a string dtype would copy every value into it and back out
        # as new Python strings when grouped (a million rows: about 60 MB each way).
        table[column] = pd.Series(_group_values(samples, column), dtype=object, copy=False)

    picked = np.flatnonzero(answered)
    answers = [found[i].answer for i in picked]
    answered_samples = [samples[i] for i in picked]
    corpus = {}
    for spec in specs:
        column = np.full(len(samples), np.nan)
        column[picked] = _in_slices(spec.score_many, answers, answered_samples)
        table[spec.name] = column
        if spec.corpus is not None:
            stats = _in_slices(spec.corpus.stats, answers, answered_samples)
            full = np.zeros((len(samples), stats.shape[1]))
            full[picked] = stats
            corpus[spec.name] = (spec.corpus, full)

    rows = _result_rows(table, specs, aggregator_names, corpus, {
        "job_id": job_id, "model_name": model_name, "framework": framework, "dataset": dataset, "task": task})
    values = {spec.name: table[spec.name].to_numpy() for spec in specs}
    return JobScores(rows=rows, samples=samples, predictions=found, values=values)


def _in_slices(score: Callable[[Sequence[str], Sequence[Sample]], Any], answers: list[str],
               samples: list[Sample]) -> np.ndarray:
    """``score(answers, samples)`` a slice of SCORE_SLICE pairs at a time, joined: a metric's working
    copies (normalised texts, token lists) are held for one slice, never for a million pairs at once.
    Every metric scores each pair on its own, so slicing changes no value."""
    parts = [np.asarray(score(answers[begin:begin + SCORE_SLICE], samples[begin:begin + SCORE_SLICE]), dtype=float)
             for begin in range(0, max(len(answers), 1), SCORE_SLICE)]
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


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
    return None if math.isnan(value) else float(value)
