"""VQA accuracy: an answer is right when enough annotators gave it.

The VQA benchmark asks ten people per question and counts an answer as
fully right once three of them said it: ``min(#agreeing / 3, 1)``, averaged
over the ten ways of leaving one annotator out so that the score matches
what a human would get against the other nine. Answers are compared after
the benchmark's normalisation (punctuation, articles, number words,
contractions), re-implemented here compactly.
"""

from __future__ import annotations

import re

from vlmbench.datasets.schema import Sample
from vlmbench.metrics.registry import register_metric

AGREEMENT_NEEDED = 3  # annotators who must agree for full credit (VQA v2)

_NUMBER_WORDS = {
    "none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10",
}  # fmt: skip
_ARTICLES = {"a", "an", "the"}
# Annotators often drop the apostrophe; put it back so "dont" equals "don't".
_CONTRACTIONS = {
    "aint": "ain't", "arent": "aren't", "cant": "can't", "couldnt": "couldn't",
    "didnt": "didn't", "doesnt": "doesn't", "dont": "don't", "hadnt": "hadn't",
    "hasnt": "hasn't", "havent": "haven't", "hes": "he's", "id": "i'd", "im": "i'm",
    "isnt": "isn't", "itd": "it'd", "itll": "it'll", "ive": "i've", "shes": "she's",
    "shouldnt": "shouldn't", "thats": "that's", "theres": "there's", "theyre": "they're",
    "theyve": "they've", "wasnt": "wasn't", "werent": "weren't", "whats": "what's",
    "wont": "won't", "wouldnt": "wouldn't", "youd": "you'd", "youre": "you're",
    "youve": "you've", "yall": "y'all",
}  # fmt: skip
# The official list leaves out "'" (kept for contractions) and "." (next rule).
_PUNCTUATION = re.escape(';/[]"{}()=+\\_-><@`,?!*#%^&$:~|')
_GLUED_PUNCTUATION = re.compile(rf"(?<=\w)[{_PUNCTUATION}]+(?=\w)")  # "x-ray" → "x ray"
_OTHER_PUNCTUATION = re.compile(rf"[{_PUNCTUATION}]")  # "yes!" → "yes"
_THOUSANDS_COMMA = re.compile(r"(?<=\d),(?=\d{3}\b)")  # "1,000" → "1000"
_STRAY_PERIOD = re.compile(r"(?<!\d)\.|\.(?!\d)")  # keep the period of "2.5" only


def normalize_vqa_answer(text: str) -> str:
    """The VQA comparison form: lowercase, no punctuation or articles, digits for number words."""
    text = " ".join(text.split()).lower()
    text = _THOUSANDS_COMMA.sub("", text)
    text = _GLUED_PUNCTUATION.sub(" ", text)
    text = _OTHER_PUNCTUATION.sub("", text)
    text = _STRAY_PERIOD.sub("", text)
    words = (_NUMBER_WORDS.get(word, word) for word in text.split())
    return " ".join(_CONTRACTIONS.get(word, word) for word in words if word not in _ARTICLES)


def human_answers(sample: Sample) -> list[str]:
    """The annotators' answers, one per annotator (repeats matter): metadata["answers"] or [answer]."""
    answers = sample.metadata.get("answers")
    if isinstance(answers, str):
        return [answers]
    if isinstance(answers, list) and answers:
        return [str(a) for a in answers if a is not None]
    return [sample.answer]


def vqa_accuracy(prediction: str, answers: list[str]) -> float:
    """Mean over leave-one-annotator-out subsets of min(#agreeing / needed, 1).

    With ten annotators ``needed`` is 3, as in VQA. With fewer, a subset
    has fewer than three others to agree, so ``needed`` shrinks to the
    subset size; one annotator alone makes it plain exact match.
    """
    if not answers:
        return 0.0
    predicted = normalize_vqa_answer(prediction)
    matches = [normalize_vqa_answer(a) == predicted for a in answers]
    if len(matches) == 1:
        return float(matches[0])
    needed = min(AGREEMENT_NEEDED, len(matches) - 1)
    total = sum(matches)
    # Leaving out annotator i leaves total - matches[i] agreeing among the others.
    return sum(min((total - left_out) / needed, 1.0) for left_out in matches) / len(matches)


@register_metric(
    "vqa_score",
    description="VQA accuracy: min(#annotators agreeing / 3, 1), leave-one-out averaged",
    aliases=("vqa", "vqa_accuracy"),
)
def vqa_score(prediction: str, sample: Sample) -> float:
    return vqa_accuracy(prediction, human_answers(sample))
