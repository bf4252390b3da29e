"""Multiple-choice accuracy: which option did a free-text answer pick?

Models rarely answer with a bare letter; they say "(B)", "Answer: B",
"The answer is B) cat" or repeat the option's text. The extractor tries
the least ambiguous readings first and gives up (scores 0) rather than
guess when a reply names several options.
"""

from __future__ import annotations

import re
import string

from vlmbench.datasets.schema import Sample
from vlmbench.metrics.registry import register_metric
from vlmbench.metrics.text import exact_match, normalize_answer

_LETTERS = string.ascii_uppercase


def _letter_class(n_choices: int) -> str:
    return f"[{_LETTERS[: max(1, min(n_choices, 26))]}]"


def extract_choice(text: str, choices: list[str]) -> str | None:
    """The option letter ``text`` picks among ``choices``, or None if it picks none or several."""
    text = text.strip()
    if not text or not choices:
        return None
    letter = _letter_class(len(choices))
    for find in (_bare_letter, _answer_phrase, _leading_letter, _option_phrase):
        found = find(text, letter)
        if found:
            return found.upper()
    # A letter the model wrote outweighs an option's words it merely mentions.
    return _option_equal(text, choices) or _lone_capital(text, letter) or _option_mentioned(text, choices)


def _bare_letter(text: str, letter: str) -> str | None:
    # "B", "(B)", "B.", "**B**", "[b]": nothing but one letter and decoration.
    match = re.fullmatch(rf"[\W_]*({letter})[\W_]*", text, re.IGNORECASE)
    return match.group(1) if match else None


# A lower-case letter after "answer is" counts only when punctuation closes it,
# so that "the answer is a cat" is not read as option A.
_LETTER_AFTER = r"[\(\[\*]*(?:({L})\b|({l})(?=[\)\]\.:*]|\s*$))"


def _answer_phrase(text: str, letter: str) -> str | None:
    pattern = (
        r"(?i:answer|ответ)(?:\s+(?i:is|would\s+be|:))?\s*[:\-–—]?\s*(?i:option\s+|choice\s+)?"
        + _LETTER_AFTER.format(L=letter, l=letter.lower())
    )
    # The last one wins: reasoning comes first, the final answer last.
    matches = list(re.finditer(pattern, text))
    return (matches[-1].group(1) or matches[-1].group(2)) if matches else None


def _leading_letter(text: str, letter: str) -> str | None:
    # "B) cat", "(B) cat", "B. cat", "B: cat", "B - cat"
    match = re.match(rf"[\(\[\*]*({letter})(?:[\)\]\.:]|\s+[-–—])\s", text + " ")
    return match.group(1) if match else None


def _option_phrase(text: str, letter: str) -> str | None:
    # "option B", "choice (C)"; only if every such mention agrees.
    found = {
        (m.group(1) or m.group(2)).upper()
        for m in re.finditer(
            r"(?i:option|choice|вариант)\s*" + _LETTER_AFTER.format(L=letter, l=letter.lower()), text
        )
    }
    return found.pop() if len(found) == 1 else None


def _option_equal(text: str, choices: list[str]) -> str | None:
    said = normalize_answer(text)
    for index, choice in enumerate(choices):
        if said and normalize_answer(choice) == said:
            return _LETTERS[index]
    return None


def _words(text: str) -> str:
    return " " + " ".join(re.findall(r"\w+", normalize_answer(text))) + " "


def _option_mentioned(text: str, choices: list[str]) -> str | None:
    # The reply contains option texts as whole words: keep the most specific
    # ("black cat" over "cat") and accept it only if it is the only one.
    said = _words(text)
    options = [_words(choice) for choice in choices]
    hits = [i for i, option in enumerate(options) if option.strip() and option in said]
    hits = [i for i in hits if not any(i != j and options[i] in options[j] for j in hits)]
    return _LETTERS[hits[0]] if len(hits) == 1 else None


# Words after which a capital "A" is still an option letter ("A or C", "A is right"),
# unlike the article in "A dog sits".
_AFTER_LETTER = {"and", "or", "nor", "is", "was", "seems", "looks", "appears", "because", "since", "vs"}


def _lone_capital(text: str, letter: str) -> str | None:
    # A capital standing alone as a word ("I'd pick C here"), never inside a
    # word ("Apple") nor the article/pronoun "A dog", "I think".
    candidates = set()
    for match in re.finditer(rf"(?<![\w'’])({letter})(?![\w'’])", text):
        found = match.group(1)
        following = re.match(r"\s+([a-z]+)", text[match.end() :])
        if following and (found == "I" or (found == "A" and following.group(1) not in _AFTER_LETTER)):
            continue
        candidates.add(match.group(1))
    return candidates.pop() if len(candidates) == 1 else None


def gold_letter(sample: Sample) -> str | None:
    """The right option's letter, whether ``answer`` holds "B", "(b)" or the option text."""
    letter = _bare_letter(sample.answer.strip(), _letter_class(len(sample.choices)))
    if letter:
        return letter.upper()
    answer = normalize_answer(sample.answer)
    for index, choice in enumerate(sample.choices):
        if normalize_answer(choice) == answer:
            return _LETTERS[index]
    return None


@register_metric(
    "accuracy",
    description="multiple choice: the extracted option letter is right; otherwise exact match",
    aliases=("acc", "mc_accuracy"),
)
def accuracy(prediction: str, sample: Sample) -> float:
    gold = gold_letter(sample) if sample.choices else None
    if gold is None:
        return exact_match(prediction, sample)
    return float(extract_choice(prediction, sample.choices) == gold)
