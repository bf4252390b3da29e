"""BLEU and chrF for free-text answers, through sacrebleu.

sacrebleu is the reference implementation of both. A group's figure (the
``general`` row, a doc_class's row) is corpus-level, as translation papers
and lmms-eval report it: every answer's n-gram statistics are pooled, then
one score is taken of the pool. The per-sample value (``by_id``,
scores.jsonl) is sacrebleu's sentence-level score. Both are divided by
100, so they lie in 0..1. sacrebleu is imported inside the functions:
importing vlmbench.metrics stays light.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np

from vlmbench.datasets.schema import Sample
from vlmbench.metrics.registry import CorpusScore, MetricError, register_metric
from vlmbench.metrics.text import reference_answers

_INSTALL_HINT = "install it with: pip install 'sacrebleu>=2.3'"


@cache
def _scorer(name: str) -> Any:
    """sacrebleu's corpus scorer with its default settings (what corpus_bleu / corpus_chrf use)."""
    try:
        from sacrebleu.metrics import BLEU, CHRF
    except ImportError as exc:
        raise MetricError("the bleu and chrf metrics need the sacrebleu package", hint=_INSTALL_HINT) from exc
    return BLEU() if name == "bleu" else CHRF()


def _sentence_scorer(name: str) -> Any:
    import sacrebleu

    return sacrebleu.sentence_bleu if name == "bleu" else sacrebleu.sentence_chrf


def _statistics(name: str) -> CorpusScore:
    """Per-answer additive statistics (n-gram matches and totals) and the score of their sums."""

    def stats(predictions: Sequence[str], samples: Sequence[Sample]) -> np.ndarray:
        references = [reference_answers(sample) for sample in samples]
        width = max((len(refs) for refs in references), default=1)
        # sacrebleu takes one stream per reference slot; None marks a sample with fewer references.
        streams = [[refs[i] if i < len(refs) else None for refs in references] for i in range(width)]
        rows = _scorer(name)._extract_corpus_statistics(list(predictions), streams) if predictions else []
        return np.asarray(rows, dtype=float).reshape(len(predictions), -1)

    def score(pooled: np.ndarray) -> np.ndarray:
        pooled = np.asarray(pooled, dtype=float)
        flat = pooled.reshape(-1, pooled.shape[-1])
        scorer = _scorer(name)
        scores = [scorer._compute_score_from_stats(list(row)).score / 100.0 for row in flat]
        return np.asarray(scores).reshape(pooled.shape[:-1])

    return CorpusScore(stats=stats, score=score)


@register_metric(
    "bleu",
    description="BLEU (sacrebleu): corpus-level per group, sentence-level per sample; 0..1",
    aliases=("sacrebleu", "corpus_bleu", "sentence_bleu"),
    corpus=_statistics("bleu"),
)
def bleu(prediction: str, sample: Sample) -> float:
    # Every accepted answer is a reference: BLEU counts n-grams against all of them at once.
    return _sentence_scorer("bleu")(prediction, reference_answers(sample)).score / 100.0


@register_metric(
    "chrf",
    description="chrF (sacrebleu): corpus-level per group, sentence-level per sample; 0..1",
    aliases=("corpus_chrf", "sentence_chrf"),
    corpus=_statistics("chrf"),
)
def chrf(prediction: str, sample: Sample) -> float:
    return _sentence_scorer("chrf")(prediction, reference_answers(sample)).score / 100.0
