"""Metrics: a registry of per-sample scores, aggregation with CIs, and job scoring.

Importing this package registers the built-in metrics (text, multiple
choice, VQA, BLEU/chrF, JSON fields, page order); it never imports torch,
sacrebleu only when BLEU or chrF is computed, and pandas only when a job
is scored.
"""

from vlmbench.metrics import choice, fields, order, pooled, text, translation, vqa  # noqa: F401  (registration)
from vlmbench.metrics.aggregate import (
    AGGREGATORS,
    aggregate_scores,
    bootstrap_ci,
    list_aggregators,
    resolve_aggregator,
)
from vlmbench.metrics.choice import accuracy, extract_choice
from vlmbench.metrics.fields import field_f1, field_precision, field_recall
from vlmbench.metrics.order import kendall_tau, parse_order
from vlmbench.metrics.registry import (
    MetricError,
    MetricSpec,
    get_metric,
    list_metrics,
    register_metric,
)
from vlmbench.metrics.scoring import default_metrics, score_job
from vlmbench.metrics.text import anls, cer, exact_match, normalize_answer, wer
from vlmbench.metrics.translation import bleu, chrf
from vlmbench.metrics.vqa import normalize_vqa_answer, vqa_score
from vlmbench.rundir.records import ResultRow

__all__ = [
    "AGGREGATORS",
    "MetricError",
    "MetricSpec",
    "ResultRow",
    "accuracy",
    "aggregate_scores",
    "anls",
    "bleu",
    "bootstrap_ci",
    "cer",
    "chrf",
    "default_metrics",
    "exact_match",
    "extract_choice",
    "field_f1",
    "field_precision",
    "field_recall",
    "get_metric",
    "kendall_tau",
    "list_aggregators",
    "list_metrics",
    "normalize_answer",
    "normalize_vqa_answer",
    "parse_order",
    "register_metric",
    "resolve_aggregator",
    "score_job",
    "vqa_score",
    "wer",
]
