"""String metrics: exact match, CER, WER and ANLS.

Each takes the model's raw answer and the sample and returns one float per
sample; averaging and confidence intervals happen in ``aggregate.py``. Each
also has a batch form (``MetricSpec.score_many``) that returns the same
floats for many samples at once (CER and ANLS on rapidfuzz's
multi-threaded ``cpdist``), so a million answers score in seconds.

* ANLS is the DocVQA evaluation's, as lmms-eval and VLMEvalKit run it:
  strings compared trimmed, lowercased, one space between words; the
  Levenshtein distance divided by the longer of the two *raw* strings as
  the script measures them (``len(s.upper())``); the best reference counts,
  and a similarity below 0.5 scores 0 (exactly 0.5 keeps 0.5).
* CER and WER are jiwer's (Levenshtein distance over characters or words
  divided by the reference's length) after runs of whitespace are
  collapsed to one space; an empty reference gives 0 for an empty answer
  and 1 otherwise.
* exact match compares NFKC, casefolded, whitespace-collapsed answers
  without final sentence punctuation, against every accepted reference.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from itertools import chain, repeat
from operator import attrgetter, contains

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from vlmbench.datasets.schema import Sample
from vlmbench.metrics.registry import register_metric

# Only sentence punctuation: a trailing "+" or ")" can be part of the answer ("C++").
_TRAILING_PUNCTUATION = ".,;:!?…。"
ANLS_THRESHOLD = 0.5  # DocVQA: a best similarity below this scores 0


def collapse_whitespace(text: str) -> str:
    return " ".join(text.split())


def normalize_answer(text: str) -> str:
    """The form exact match compares: NFKC, trimmed, one space, casefolded, no final ".,;:!?…。"."""
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


# Batch helpers chain C-level ``map`` calls: a Python function call per
# string would cost as much as the edit distance itself.


class _RecentBatches:
    """A function of one sequence that remembers its results for the last two sequences given.

    ``score_job`` hands every metric the same answers list and samples
    list, so CER and ANLS of one job split and join each text once, not
    twice. Entries are keyed by the sequence object itself (held, so its
    identity is not reused); batch inputs are never mutated.
    """

    def __init__(self, function: Callable[[Sequence], list]) -> None:
        self.function = function
        self.recent: list[tuple[Sequence, list]] = []

    def __call__(self, items: Sequence) -> list:
        for seen, result in self.recent:
            if seen is items:
                return result
        result = self.function(items)
        self.recent = [(items, result), *self.recent[:1]]
        return result


@_RecentBatches
def _collapsed(texts: Sequence[str]) -> list[str]:
    """:func:`collapse_whitespace` of each text."""
    return list(map(" ".join, map(str.split, texts)))


@_RecentBatches
def _answers(samples: Sequence[Sample]) -> list[str]:
    return list(map(attrgetter("answer"), samples))


def _references_of(samples: Sequence[Sample]) -> tuple[list[str], np.ndarray | None]:
    """All samples' references in one flat list, and which sample each belongs to.

    The owner array is None when every sample has just its ``answer`` (the
    common case, kept free of per-sample lists).
    """
    answers = _answers(samples)
    if not any(map(attrgetter("choices"), samples)) and not any(
            map(contains, map(attrgetter("metadata"), samples), repeat("answers"))):
        return answers, None
    several = [i for i, sample in enumerate(samples) if sample.choices or "answers" in sample.metadata]
    per_sample = [[answer] for answer in answers]
    for i in several:
        per_sample[i] = reference_answers(samples[i])
    counts = np.fromiter(map(len, per_sample), dtype=np.intp, count=len(per_sample))
    return list(chain.from_iterable(per_sample)), np.repeat(np.arange(len(samples)), counts)


def _best_per_sample(values: np.ndarray, owner: np.ndarray | None) -> np.ndarray:
    """The largest value of each sample's references (``owner`` is sorted, no sample has none)."""
    if owner is None or len(values) == 0:
        return values
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    return np.maximum.reduceat(values, starts)


def _for_each_reference(items: list, owner: np.ndarray | None) -> list:
    return items if owner is None else [items[i] for i in owner.tolist()]


def _distances(a: list, b: list) -> np.ndarray:
    """Levenshtein distance of each pair a[i], b[i], on all cores."""
    if not a:
        return np.zeros(0, dtype=np.int64)
    return process.cpdist(a, b, scorer=Levenshtein.distance, workers=-1, dtype=np.int64)


def _exact_match_many(predictions: Sequence[str], samples: Sequence[Sample]) -> np.ndarray:
    references, owner = _references_of(samples)
    predicted = _for_each_reference(list(map(normalize_answer, predictions)), owner)
    hits = np.fromiter(map(str.__eq__, predicted, map(normalize_answer, references)),
                       dtype=float, count=len(references))
    return _best_per_sample(hits, owner)


@register_metric(
    "exact_match",
    description="1 if the normalized answer equals a normalized reference, else 0",
    aliases=("em", "exact"),
    batch=_exact_match_many,
)
def exact_match(prediction: str, sample: Sample) -> float:
    predicted = normalize_answer(prediction)
    return float(any(predicted == normalize_answer(ref) for ref in reference_answers(sample)))


def _rate(edits: float, reference_length: int, hypothesis_length: int) -> float:
    if reference_length == 0:
        # The rate divides by the reference length; with nothing to read,
        # saying nothing is perfect and saying anything is fully wrong.
        return 0.0 if hypothesis_length == 0 else 1.0
    return edits / reference_length


def _rates(edits: np.ndarray, reference_lengths: np.ndarray, hypothesis_lengths: np.ndarray) -> np.ndarray:
    """:func:`_rate` for many pairs at once."""
    empty = (hypothesis_lengths > 0).astype(float)
    return np.divide(edits, reference_lengths, out=empty, where=reference_lengths > 0)


def _lengths(items: Sequence) -> np.ndarray:
    return np.fromiter(map(len, items), dtype=np.intp, count=len(items))


def _cer_many(predictions: Sequence[str], samples: Sequence[Sample]) -> np.ndarray:
    references, hypotheses = _collapsed(_answers(samples)), _collapsed(predictions)
    return _rates(_distances(references, hypotheses), _lengths(references), _lengths(hypotheses))


@register_metric(
    "cer",
    higher_is_better=False,
    description="character error rate (edits / reference characters); can exceed 1",
    batch=_cer_many,
)
def cer(prediction: str, sample: Sample) -> float:
    reference, hypothesis = collapse_whitespace(sample.answer), collapse_whitespace(prediction)
    return _rate(Levenshtein.distance(reference, hypothesis), len(reference), len(hypothesis))


def _wer_many(predictions: Sequence[str], samples: Sequence[Sample]) -> np.ndarray:
    # Lists of words are made and dropped pair by pair: a million of them
    # alive at once would wake Python's cycle collector again and again.
    references, hypotheses = map(str.split, map(attrgetter("answer"), samples)), map(str.split, predictions)
    edits, reference_lengths, hypothesis_lengths = [], [], []
    for reference, hypothesis in zip(references, hypotheses, strict=True):
        edits.append(Levenshtein.distance(reference, hypothesis))
        reference_lengths.append(len(reference))
        hypothesis_lengths.append(len(hypothesis))
    return _rates(np.array(edits, dtype=float), np.array(reference_lengths), np.array(hypothesis_lengths))


@register_metric(
    "wer",
    higher_is_better=False,
    description="word error rate (word edits / reference words); can exceed 1",
    batch=_wer_many,
)
def wer(prediction: str, sample: Sample) -> float:
    reference, hypothesis = sample.answer.split(), prediction.split()
    return _rate(Levenshtein.distance(reference, hypothesis), len(reference), len(hypothesis))


def _anls_form(text: str) -> str:
    # The DocVQA script compares strings trimmed, lowercased (lower, not
    # casefold: "ß" stays) and with one space between words.
    return " ".join(text.lower().split())


def _measured_length(text: str) -> int:
    # ...but divides by the raw strings' lengths, uppercased ("ß" → "SS" counts 2).
    return len(text.upper())


def _anls_forms(texts: Sequence[str]) -> list[str]:
    # One lower() over all texts joined instead of one per text. A collapsed
    # text holds no "\n", and "\n" (neither cased nor case-ignorable) ends
    # a word for the final-sigma rule just as the end of a text does.
    collapsed = _collapsed(texts)
    return "\n".join(collapsed).lower().split("\n") if collapsed else []


def _measured_lengths(texts: Sequence[str]) -> np.ndarray:
    lengths = np.fromiter(map(len, texts), dtype=np.intp, count=len(texts))
    joined = "".join(texts)
    if len(joined.upper()) == len(joined):  # no "ß"-like letter anywhere: uppercasing keeps every length
        return lengths
    return np.fromiter(map(len, map(str.upper, texts)), dtype=np.intp, count=len(texts))


def anls_score(prediction: str, references: Sequence[str], threshold: float = ANLS_THRESHOLD) -> float:
    """DocVQA's per-question ANLS: best 1 - distance / length, 0 below ``threshold``."""
    predicted, predicted_length = _anls_form(prediction), _measured_length(prediction)
    best = 0.0
    for reference in references:
        length = max(_measured_length(reference), predicted_length)
        distance = Levenshtein.distance(predicted, _anls_form(reference)) / length if length else 0.0
        best = max(best, 1.0 - distance)
    return best if best >= threshold else 0.0


def _anls_many(predictions: Sequence[str], samples: Sequence[Sample]) -> np.ndarray:
    references, owner = _references_of(samples)
    predicted = _for_each_reference(_anls_forms(predictions), owner)
    predicted_lengths = _measured_lengths(predictions)
    if owner is not None:
        predicted_lengths = predicted_lengths[owner]
    lengths = np.maximum(_measured_lengths(references), predicted_lengths)
    distances = np.divide(_distances(predicted, _anls_forms(references)), lengths,
                          out=np.zeros(len(references)), where=lengths > 0)
    best = _best_per_sample(1.0 - distances, owner)
    return np.where(best >= ANLS_THRESHOLD, best, 0.0)


@register_metric(
    "anls",
    description="average normalized Levenshtein similarity (DocVQA, threshold 0.5)",
    batch=_anls_many,
)
def anls(prediction: str, sample: Sample) -> float:
    return anls_score(prediction, reference_answers(sample))
