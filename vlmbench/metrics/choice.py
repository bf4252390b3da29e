"""Multiple-choice accuracy: which option did a free-text answer pick?

Models rarely answer with a bare letter; they say "(B)", "Answer: B",
"The answer is B) cat", "B\n\nExplanation: ...", or repeat the option's
text. The extractor tries the least ambiguous readings first and gives up
(scores 0) rather than guess when a reply names several options ("A or C",
"Answer: B, C", a reply that lists every option).

Before reading, it keeps only the final answer of a reasoning model (what
follows the last ``</think>``), drops chat-template tokens such as
``<|im_end|>``, and reads Cyrillic capitals standing alone as option
letters: "Ответ: В" is option B (В looks like B; models writing Russian
type it), unless the reply letters options the Russian way, with
letters that have no Latin twin (А, Б, В, Г, ...), where В is the third.
A Cyrillic capital followed by a Russian word is a word ("В данном
случае" means "in this case").
"""

from __future__ import annotations

import re
import string

from vlmbench.datasets.schema import Sample
from vlmbench.metrics.registry import register_metric
from vlmbench.metrics.text import exact_match, normalize_answer

_LETTERS = string.ascii_uppercase
_SEVERAL = "several"  # a reading that found more than one option: abstain, read no further


def _letter_class(n_choices: int) -> str:
    return f"[{_LETTERS[: max(1, min(n_choices, 26))]}]"


def extract_choice(text: str, choices: list[str]) -> str | None:
    """The option letter ``text`` picks among ``choices``, or None if it picks none or several."""
    text = _latinise(_final_answer(text))
    if not text or not choices:
        return None
    letter = _letter_class(len(choices))
    for find in (_bare_letter, _answer_phrase, _leading_letter, _closing_letter, _option_phrase):
        found = find(text, letter)
        if found == _SEVERAL:
            return None
        if found:
            return found.upper()
    # A letter the model wrote outweighs an option's words it merely mentions.
    return _option_equal(text, choices) or _lone_capital(text, letter) or _option_mentioned(text, choices)


# Chat-template tokens a server may leave in the text: <|im_end|>, </s>, <end_of_turn>, <eos>.
_SPECIAL_TOKENS = re.compile(r"<\|[^<>|]{1,40}\|>|</?s>|<(?:end_of_turn|eos|start_of_turn)>")


def _final_answer(text: str) -> str:
    text = _SPECIAL_TOKENS.sub(" ", text)
    _thought, closed, after = text.rpartition("</think>")
    return (after if closed and after.strip() else text).strip()


# Cyrillic capitals that look like Latin ones (А В С Е Н К М О Р Т Х, written
# as escapes so that no reader takes them for Latin), and the Russian lettering
# order А Б В Г Д Е Ж З И К.
_CYRILLIC_TWINS = dict(zip(
    "\u0410\u0412\u0421\u0415\u041d\u041a\u041c\u041e\u0420\u0422\u0425", "ABCEHKMOPTX", strict=True
))
_RUSSIAN_ORDER = dict(zip(
    "\u0410\u0411\u0412\u0413\u0414\u0415\u0416\u0417\u0418\u041a", "ABCDEFGHIJ", strict=True
))
# A Cyrillic capital standing alone, not followed by a lower-case Russian word.
_CYRILLIC_LETTER = re.compile(r"(?<![^\W\d_])([А-ЯЁ])(?![^\W\d_])(?!\s+[а-яё])")


def _latinise(text: str) -> str:
    alone = {match.group(1) for match in _CYRILLIC_LETTER.finditer(text)}
    if not alone:
        return text
    russian = any(letter in _RUSSIAN_ORDER and letter not in _CYRILLIC_TWINS for letter in alone)
    table = _RUSSIAN_ORDER if russian else _CYRILLIC_TWINS
    return _CYRILLIC_LETTER.sub(lambda match: table.get(match.group(1), match.group(1)), text)


def _bare_letter(text: str, letter: str) -> str | None:
    # "B", "(B)", "B.", "**B**", "[b]": nothing but one letter and decoration.
    match = re.fullmatch(rf"[\W_]*({letter})[\W_]*", text, re.IGNORECASE)
    return match.group(1) if match else None


# A lower-case letter counts only when punctuation closes it, so that
# "the answer is a cat" is not read as option A; a capital "A" followed by a
# lower-case word is the article ("Answer: A dog in a park").
_NOT_ARTICLE = r"(?!(?<=A)\s+(?!(?:and|or|nor|is|was)\b)[a-z])"
_LETTER_AFTER = (
    r"[\(\[\*\"'`{{]*(?:({L})(?![\w'’])" + _NOT_ARTICLE + r"|({l})(?=[\)\]\.:*\"'`}}]|\s*$))"
)

# Words that introduce the chosen option; the last such phrase in a reply wins.
_ANSWER_WORDS = (
    r"(?i:answer|ответ|(?:correct|right|best|final|my)\s+(?:option|choice)|правильный\s+вариант"
    r"|i(?:\s+would|\s+will|'d|’d)?\s+(?:choose|pick|select|go\s+with)|\\boxed|答案[是为]?)"
)
_ANSWER_LINK = (
    r"(?:\s*\*{0,2}\s*(?i:is|would\s+be|should\s+be|will\s+be|will\s+have\s+to\s+be))?"
    r"[\s\*\"'`:：=\-–—]*(?i:option\s+|choice\s+|вариант\s+)?"
)
# Another letter right after the one read: "B, C", "A and B", "(B) or (C)", "A/B".
_ANOTHER = (
    r"[\)\]\*\.\"'`]*\s*(?:,|/|&|\+|(?i:or|and|или|и)\b)\s*(?i:option\s+)?[\(\[\*]*{L}(?![\w'’])"
)


def _another_follows(text: str, end: int, letter: str) -> bool:
    return re.match(_ANOTHER.format(L=letter), text[end:]) is not None


def _answer_phrase(text: str, letter: str) -> str | None:
    pattern = _ANSWER_WORDS + _ANSWER_LINK + _LETTER_AFTER.format(L=letter, l=letter.lower())
    matches = list(re.finditer(pattern, text))
    if not matches:
        return None
    last = matches[-1]
    return _SEVERAL if _another_follows(text, last.end(), letter) else (last.group(1) or last.group(2))


_LABEL = r"[\(\[\*]*(?:({L})(?:[\)\]\.:]|\s+[-–—])|({l})[\)\.])(?=\s|\*|$)"


def _leading_letter(text: str, letter: str) -> str | None:
    # The reply opens with a letter: "B) cat", "(B) cat", "B. cat", "B: cat", "B - cat",
    # or a first line holding only the letter ("B\n\nExplanation: A is wrong").
    label = _LABEL.format(L=letter, l=letter.lower())
    labelled = set()
    for line in text.splitlines():
        match = re.match(label, line.strip())
        found = (match.group(1) or match.group(2)) if match else _bare_letter(line.strip(), letter)
        if found:
            labelled.add(found.upper())
    inline = set(re.findall(rf"(?<![\w'’])[\(\[]?({letter})[\)\]\.:](?=\s)", text))
    if len(labelled) > 1 or len(inline) > 2:
        return _SEVERAL  # the reply lists the options: one per line, or "A) dog B) cat C) bird"
    first_line = text.split("\n", 1)[0].strip()
    bare = _bare_letter(first_line, letter)
    if bare:
        return bare
    match = re.match(label, text)
    if not match:
        return None
    return _SEVERAL if _another_follows(text, match.end(), letter) else (match.group(1) or match.group(2))


def _closing_letter(text: str, letter: str) -> str | None:
    # The reply ends on a colon and one letter: "... only one matches the scene: C."
    match = re.search(rf":\s*[\(\[\*]*({letter})[\)\]\*]*\.?\s*$", text)
    return match.group(1) if match else None


def _option_phrase(text: str, letter: str) -> str | None:
    # "option B", "choice (C)"; only if every such mention agrees.
    found = {
        (m.group(1) or m.group(2)).upper()
        for m in re.finditer(
            r"(?i:option|choice|вариант)\s*" + _LETTER_AFTER.format(L=letter, l=letter.lower()), text
        )
    }
    if len(found) > 1:
        return None
    return found.pop() if found else None


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
    # "It is not a dog, it is a cat": an option said only after "not" is ruled out, not picked.
    hits = [i for i in hits if not all(_NEGATED_WORDS.search(said[:at]) for at in _starts(said, options[i]))]
    return _LETTERS[hits[0]] if len(hits) == 1 else None


_NEGATED_WORDS = re.compile(r" (?:not|neither|nor|no|\w+n t)(?: (?:a|an|the))?$")  # "isn't" is "isn t" here


def _starts(said: str, option: str) -> list[int]:
    return [match.start() for match in re.finditer(f"(?={re.escape(option)})", said)]


# Words after which a capital "A" is still an option letter ("A or C", "A is right"),
# unlike the article in "A dog sits".
_AFTER_LETTER = {"and", "or", "nor", "is", "was", "seems", "looks", "appears", "because", "since", "vs"}


_NEGATED_LETTER = re.compile(
    r"(?i:\bnot|n['’]t|\bneither|\bnor|\bexcept|\bexcluding)\s+(?i:option\s+)?[\(\[\*]*$"
)


def _lone_capital(text: str, letter: str) -> str | None:
    # A capital standing alone as a word ("I'd pick C here"), never inside a
    # word ("Apple") nor the article/pronoun "A dog", "I think".
    candidates = set()
    for match in re.finditer(rf"(?<![\w'’])({letter})(?![\w'’])", text):
        found = match.group(1)
        following = re.match(r"\s+([a-z]+)", text[match.end() :])
        if following and (found == "I" or (found == "A" and following.group(1) not in _AFTER_LETTER)):
            continue
        if _NEGATED_LETTER.search(text[: match.start()]):
            continue  # "not C", "neither A nor B": ruled out
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
