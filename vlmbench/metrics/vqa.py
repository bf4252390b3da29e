"""VQA accuracy: an answer is right when enough annotators gave it.

The VQA benchmark asks ten people per question and counts an answer as
fully right once three of them said it: ``min(#agreeing / 3, 1)``, averaged
over the ten ways of leaving one annotator out so that the score matches
what a human would get against the other nine.

Answers are compared after the official VQA evaluation's normalisation
(GT-Vision-Lab ``vqaEval.py``), re-implemented here rule for rule, quirks
included, because the leaderboard figures are computed with it:

* newlines and tabs become spaces, the answer is trimmed;
* 21 punctuation marks: a mark that touches a space somewhere in the
  answer is deleted, any other is replaced by a space ("x-ray" → "x ray"),
  and when the answer has a comma between two digits ("2,000") every mark
  is deleted;
* a period not followed by a digit is deleted ("yes." → "yes", "3.5"
  stays), at most 32 of them (the official script passes ``re.UNICODE``
  where ``re.sub`` takes its count);
* lowercase, number words zero to ten become digits, articles go, and
  words from the official contraction table get their apostrophes back.

Both the prediction and every annotator answer are normalised, always, as
lmms-eval (VQAv2) and VLMEvalKit do; the official script skips the
annotators' side when they all agree, which gives the same figure on the
official annotation files (their answers are already normalised).
``textvqa_score`` adds the EvalAI tokenising step that the TextVQA and
VizWiz evaluations (and lmms-eval's tasks for them) run first.
"""

from __future__ import annotations

import re
from functools import lru_cache

from vlmbench.datasets.schema import Sample
from vlmbench.metrics.registry import register_metric

AGREEMENT_NEEDED = 3  # annotators who must agree for full credit (VQA v2)

_NUMBER_WORDS = {
    "none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10",
}  # fmt: skip
_ARTICLES = frozenset({"a", "an", "the"})
# Annotators drop apostrophes; the official table puts them back. Keys are
# lowercase words as they come out of the punctuation step (which keeps
# "'"). The official table also lists "Im", "Ive", "Id've", "I'dve" (never
# matched: the text is lowercased first, so "im" stays "im"), and "let's"
# and "she's" mapped to themselves; those six change nothing and are left
# out. "somebody'd" → "somebodyd" is the official table's (reversed) entry,
# kept so that scores agree.
CONTRACTIONS = {
    "aint": "ain't", "arent": "aren't", "cant": "can't", "couldnt": "couldn't",
    "couldve": "could've", "couldnt've": "couldn't've", "couldn'tve": "couldn't've",
    "didnt": "didn't", "doesnt": "doesn't", "dont": "don't",
    "hadnt": "hadn't", "hadnt've": "hadn't've", "hadn'tve": "hadn't've",
    "hasnt": "hasn't", "havent": "haven't",
    "hed": "he'd", "hed've": "he'd've", "he'dve": "he'd've", "hes": "he's",
    "howd": "how'd", "howll": "how'll", "hows": "how's",
    "isnt": "isn't", "itd": "it'd", "itd've": "it'd've", "it'dve": "it'd've", "itll": "it'll",
    "maam": "ma'am", "mightnt": "mightn't", "mightnt've": "mightn't've", "mightn'tve": "mightn't've",
    "mightve": "might've", "mustnt": "mustn't", "mustve": "must've", "neednt": "needn't",
    "notve": "not've", "oclock": "o'clock", "oughtnt": "oughtn't",
    "ow's'at": "'ow's'at", "'ows'at": "'ow's'at", "'ow'sat": "'ow's'at",
    "shant": "shan't", "shed've": "she'd've", "she'dve": "she'd've",
    "shouldnt": "shouldn't", "shouldve": "should've",
    "shouldnt've": "shouldn't've", "shouldn'tve": "shouldn't've",
    "somebody'd": "somebodyd", "somebodyd've": "somebody'd've", "somebody'dve": "somebody'd've",
    "somebodyll": "somebody'll", "somebodys": "somebody's",
    "someoned": "someone'd", "someoned've": "someone'd've", "someone'dve": "someone'd've",
    "someonell": "someone'll", "someones": "someone's",
    "somethingd": "something'd", "somethingd've": "something'd've",
    "something'dve": "something'd've", "somethingll": "something'll",
    "thats": "that's", "thered": "there'd", "thered've": "there'd've", "there'dve": "there'd've",
    "therere": "there're", "theres": "there's",
    "theyd": "they'd", "theyd've": "they'd've", "they'dve": "they'd've",
    "theyll": "they'll", "theyre": "they're", "theyve": "they've", "twas": "'twas",
    "wasnt": "wasn't", "wed've": "we'd've", "we'dve": "we'd've", "weve": "we've", "werent": "weren't",
    "whatll": "what'll", "whatre": "what're", "whats": "what's", "whatve": "what've",
    "whens": "when's", "whered": "where'd", "wheres": "where's", "whereve": "where've",
    "whod": "who'd", "whod've": "who'd've", "who'dve": "who'd've",
    "wholl": "who'll", "whos": "who's", "whove": "who've",
    "whyll": "why'll", "whyre": "why're", "whys": "why's",
    "wont": "won't", "wouldnt": "wouldn't", "wouldve": "would've",
    "wouldnt've": "wouldn't've", "wouldn'tve": "wouldn't've",
    "yall": "y'all", "yall'll": "y'all'll", "y'allll": "y'all'll",
    "yall'd've": "y'all'd've", "y'alld've": "y'all'd've", "y'all'dve": "y'all'd've",
    "youd": "you'd", "youd've": "you'd've", "you'dve": "you'd've",
    "youll": "you'll", "youre": "you're", "youve": "you've",
}  # fmt: skip
# The official list: no "'" (contractions), no "." (own rule below), no ":".
_PUNCTUATION = ';/[]"{}()=+\\_-><@`,?!'
_DIGIT_COMMA_DIGIT = re.compile(r"\d,\d")
# The official pattern "(?!<=\d)(\.)(?!\d)" means to look behind but is a
# look-ahead that always holds, so only "not followed by a digit" applies:
# "3." loses its period, "3.5" and ".5" keep theirs.
_PERIOD = re.compile(r"\.(?!\d)")
_MAX_PERIODS = 32  # re.UNICODE (32) passed as the count in the official script


def _strip_punctuation(text: str) -> str:
    # Each mark's fate is decided on the text as it came in, not as edited.
    delete_all = _DIGIT_COMMA_DIGIT.search(text) is not None
    out = text
    for mark in _PUNCTUATION:
        if mark in text:
            touches_space = mark + " " in text or " " + mark in text
            out = out.replace(mark, "" if delete_all or touches_space else " ")
    return _PERIOD.sub("", out, count=_MAX_PERIODS)


def _words(text: str) -> str:
    kept = (_NUMBER_WORDS.get(word, word) for word in text.lower().split())
    return " ".join(CONTRACTIONS.get(word, word) for word in kept if word not in _ARTICLES)


@lru_cache(maxsize=1 << 16)  # annotator answers repeat ("yes", "2") across a dataset
def normalize_vqa_answer(text: str, tokenize: bool = False) -> str:
    """The official VQA comparison form ("The two dogs." → "2 dogs").

    ``tokenize`` first runs EvalAI's tokenising step (TextVQA, VizWiz):
    lowercase, drop every "," and "?", split "'s" off its word.
    """
    if tokenize:
        text = text.lower().replace(",", "").replace("?", "").replace("'s", " 's").strip()
    text = text.replace("\n", " ").replace("\t", " ").strip()
    return _words(_strip_punctuation(text))


def human_answers(sample: Sample) -> list[str]:
    """The annotators' answers, one per annotator (repeats matter): metadata["answers"] or [answer]."""
    answers = sample.metadata.get("answers")
    if isinstance(answers, str):
        return [answers]
    if isinstance(answers, list) and answers:
        return [str(a) for a in answers if a is not None]
    return [sample.answer]


def vqa_accuracy(prediction: str, answers: list[str], tokenize: bool = False) -> float:
    """Mean over leave-one-annotator-out subsets of min(#agreeing / needed, 1).

    With four or more annotators ``needed`` is 3, as in VQA. With fewer, a
    subset has fewer than three others to agree, so ``needed`` shrinks to
    the subset size; one annotator alone makes it plain exact match.
    """
    if not answers:
        return 0.0
    predicted = normalize_vqa_answer(prediction, tokenize)
    matches = [normalize_vqa_answer(a, tokenize) == predicted for a in answers]
    if len(matches) == 1:
        return float(matches[0])
    needed = min(AGREEMENT_NEEDED, len(matches) - 1)
    total = sum(matches)
    # Leaving out annotator i leaves total - matches[i] agreeing among the
    # others. Summing whole credits and dividing once rounds only once.
    credits = sum(min(total - left_out, needed) for left_out in matches)
    return credits / (needed * len(matches))


@register_metric(
    "vqa_score",
    description="VQA accuracy: min(#annotators agreeing / 3, 1), leave-one-out averaged",
    aliases=("vqa", "vqa_accuracy"),
)
def vqa_score(prediction: str, sample: Sample) -> float:
    return vqa_accuracy(prediction, human_answers(sample))


@register_metric(
    "textvqa_score",
    description="VQA accuracy after EvalAI's tokenising step, as TextVQA and VizWiz evaluations compute it",
    aliases=("textvqa", "vizwiz_score"),
)
def textvqa_score(prediction: str, sample: Sample) -> float:
    return vqa_accuracy(prediction, human_answers(sample), tokenize=True)
