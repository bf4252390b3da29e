"""Sentence-level BLEU and chrF for free-text answers, through sacrebleu.

sacrebleu is the reference implementation of both, so scores here match
what translation papers report (divided by 100, so they lie in 0..1). It
is imported inside the functions: importing vlmbench.metrics stays light.
"""

from __future__ import annotations

from types import ModuleType

from vlmbench.datasets.schema import Sample
from vlmbench.metrics.registry import MetricError, register_metric
from vlmbench.metrics.text import reference_answers

_INSTALL_HINT = "install it with: pip install 'sacrebleu>=2.3'"


def _sacrebleu() -> ModuleType:
    try:
        import sacrebleu
    except ImportError as exc:
        raise MetricError("the bleu and chrf metrics need the sacrebleu package", hint=_INSTALL_HINT) from exc
    return sacrebleu


@register_metric(
    "bleu",
    description="sentence BLEU (sacrebleu defaults, exponential smoothing), 0..1",
    aliases=("sacrebleu", "sentence_bleu"),
)
def bleu(prediction: str, sample: Sample) -> float:
    # Every accepted answer is a reference: BLEU counts n-grams against all of them at once.
    return _sacrebleu().sentence_bleu(prediction, reference_answers(sample)).score / 100.0


@register_metric(
    "chrf",
    description="sentence chrF (character n-gram F-score, sacrebleu defaults), 0..1",
    aliases=("sentence_chrf",),
)
def chrf(prediction: str, sample: Sample) -> float:
    return _sacrebleu().sentence_chrf(prediction, reference_answers(sample)).score / 100.0
