"""String metrics: exact match, CER, WER and ANLS.

Each takes the model's raw answer and the sample, and returns one float
per sample; averaging and confidence intervals happen in ``aggregate.py``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import jiwer
from rapidfuzz.distance import Levenshtein

from vlmbench.datasets.schema import Sample
from vlmbench.metrics.registry import register_metric

# Only sentence punctuation: a trailing "+" or ")" can be part of the answer ("C++").
_TRAILING_PUNCTUATION = ".,;:!?…。"
ANLS_THRESHOLD = 0.5  # DocVQA: an answer further than this from every reference scores 0


def collapse_whitespace(text: str) -> str:
    return " ".join(text.split())


def normalize_answer(text: str) -> str:
    """The form exact match compares: NFKC, trimmed, one space, casefolded, no final period."""
    text = collapse_whitespace(unicodedata.normalize("NFKC", text)).casefold()
    return text.rstrip(_TRAILING_PUNCTUATION + " ")


def reference_answers(sample: Sample) -> list[str]:
    """Every answer the sample accepts: its ``answer``, ``metadata["answers"]``, and
    for multiple choice the text of the right option (a model may say "cat" for "B")."""
    answers = [sample.answer]
    extra = sample.metadata.get("answers")
    if isinstance(extra, str):
        extra = [extra]
    if isinstance(extra, list):
        answers.extend(str(a) for a in extra if a is not None)
    letter = sample.answer.strip().upper()
    if sample.choices and len(letter) == 1 and 0 <= ord(letter) - ord("A") < len(sample.choices):
        answers.append(sample.choices[ord(letter) - ord("A")])
    return list(dict.fromkeys(answers))


@register_metric(
    "exact_match",
    description="1 if the normalized answer equals a normalized reference, else 0",
    aliases=("em", "exact"),
)
def exact_match(prediction: str, sample: Sample) -> float:
    predicted = normalize_answer(prediction)
    return float(any(predicted == normalize_answer(ref) for ref in reference_answers(sample)))


def _error_rate(reference: str, hypothesis: str, rate: Callable[[str, str], float]) -> float:
    reference, hypothesis = collapse_whitespace(reference), collapse_whitespace(hypothesis)
    if not reference:
        # The rate divides by the reference length; with nothing to read,
        # saying nothing is perfect and saying anything is fully wrong.
        return 0.0 if not hypothesis else 1.0
    return float(rate(reference, hypothesis))


@register_metric(
    "cer",
    higher_is_better=False,
    description="character error rate (edits / reference characters); can exceed 1",
)
def cer(prediction: str, sample: Sample) -> float:
    return _error_rate(sample.answer, prediction, jiwer.cer)


@register_metric(
    "wer",
    higher_is_better=False,
    description="word error rate (word edits / reference words); can exceed 1",
)
def wer(prediction: str, sample: Sample) -> float:
    return _error_rate(sample.answer, prediction, jiwer.wer)


def anls_score(prediction: str, references: list[str], threshold: float = ANLS_THRESHOLD) -> float:
    """Best 1 - normalized Levenshtein distance over references, 0 past ``threshold``."""
    predicted = collapse_whitespace(prediction).casefold()
    best = 0.0
    for reference in references:
        distance = Levenshtein.normalized_distance(predicted, collapse_whitespace(reference).casefold())
        if distance < threshold:
            best = max(best, 1.0 - distance)
    return best


@register_metric(
    "anls",
    description="average normalized Levenshtein similarity (DocVQA, threshold 0.5)",
)
def anls(prediction: str, sample: Sample) -> float:
    return anls_score(prediction, reference_answers(sample))
