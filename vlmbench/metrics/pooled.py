"""CER and WER of a group's pooled text: all edits over all reference characters (or words).

``cer`` and ``wer`` give each group the mean of its samples' rates, so a
one-word answer weighs as much as a page. jiwer, given lists, and with it
VLMHyperBench's metric_evaluator, report the pooled figure instead: the
sum of every sample's edits divided by the sum of the references' lengths,
which weighs samples by their length. ``cer_pooled`` and ``wer_pooled``
give that figure per group (bootstrapped over samples like BLEU's corpus
score); per sample (``by_id``, scores.jsonl) they equal ``cer``/``wer``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rapidfuzz.distance import Levenshtein

from vlmbench.datasets.schema import Sample
from vlmbench.metrics.registry import CorpusScore, get_metric, register_metric
from vlmbench.metrics.text import _answers, _collapsed, _distances, _lengths, cer, wer


def _char_stats(predictions: Sequence[str], samples: Sequence[Sample]) -> np.ndarray:
    """Per sample: (character edits, reference characters), texts whitespace-collapsed as ``cer`` does."""
    # cer's own batch helpers: the same normalisation, and texts cer already collapsed are not redone.
    references, hypotheses = _collapsed(_answers(samples)), _collapsed(predictions)
    return np.column_stack([_distances(references, hypotheses), _lengths(references)]).astype(float)


def _word_stats(predictions: Sequence[str], samples: Sequence[Sample]) -> np.ndarray:
    """Per sample: (word edits, reference words)."""
    rows = [(Levenshtein.distance(s.answer.split(), p.split()), len(s.answer.split()))
            for p, s in zip(predictions, samples, strict=True)]
    return np.asarray(rows, dtype=float).reshape(len(rows), 2)


def _pooled_rate(pooled: np.ndarray) -> np.ndarray:
    """Summed edits / summed reference lengths, for one (2,) pool or a stack of them (... × 2)."""
    pooled = np.asarray(pooled, dtype=float)
    edits, lengths = np.atleast_1d(pooled[..., 0]), np.atleast_1d(pooled[..., 1])
    # Only empty references: as for one sample, no edits is perfect and any edit is fully wrong.
    nothing_to_read = (edits > 0).astype(float)
    return np.divide(edits, lengths, out=nothing_to_read, where=lengths > 0).reshape(pooled.shape[:-1])


@register_metric(
    "cer_pooled",
    higher_is_better=False,
    description="character error rate of the group's pooled text (all edits / all reference characters)",
    aliases=("corpus_cer", "pooled_cer"),
    batch=get_metric("cer").batch,
    corpus=CorpusScore(stats=_char_stats, score=_pooled_rate),
)
def cer_pooled(prediction: str, sample: Sample) -> float:
    return cer(prediction, sample)


@register_metric(
    "wer_pooled",
    higher_is_better=False,
    description="word error rate of the group's pooled text (all word edits / all reference words)",
    aliases=("corpus_wer", "pooled_wer"),
    batch=get_metric("wer").batch,
    corpus=CorpusScore(stats=_word_stats, score=_pooled_rate),
)
def wer_pooled(prediction: str, sample: Sample) -> float:
    return wer(prediction, sample)
