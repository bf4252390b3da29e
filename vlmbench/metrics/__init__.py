"""Metrics: a registry of per-sample scores, aggregation with CIs, and job scoring.

Importing this package registers the built-in metrics (text and multiple
choice); it never imports torch, and pandas only when a job is scored.
"""

from vlmbench.metrics import choice, text  # noqa: F401  (imported for registration)
from vlmbench.metrics.aggregate import (
    AGGREGATORS,
    aggregate_scores,
    bootstrap_ci,
    list_aggregators,
    resolve_aggregator,
)
from vlmbench.metrics.choice import accuracy, extract_choice
from vlmbench.metrics.registry import (
    MetricError,
    MetricSpec,
    get_metric,
    list_metrics,
    register_metric,
)
from vlmbench.metrics.schema import ResultRow
from vlmbench.metrics.scoring import default_metrics, score_job
from vlmbench.metrics.text import anls, cer, exact_match, normalize_answer, wer

__all__ = [
    "AGGREGATORS",
    "MetricError",
    "MetricSpec",
    "ResultRow",
    "accuracy",
    "aggregate_scores",
    "anls",
    "bootstrap_ci",
    "cer",
    "default_metrics",
    "exact_match",
    "extract_choice",
    "get_metric",
    "list_aggregators",
    "list_metrics",
    "normalize_answer",
    "register_metric",
    "resolve_aggregator",
    "score_job",
    "wer",
]
