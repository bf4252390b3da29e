"""Answer-letter extraction from free model text, and accuracy."""

from __future__ import annotations

import pytest

from vlmbench.datasets.schema import Sample
from vlmbench.metrics import accuracy, extract_choice
from vlmbench.metrics.choice import gold_letter

ANIMALS = ["dog", "cat", "bird", "fish"]
COLOURS = ["red", "green", "blue", "yellow"]


@pytest.mark.parametrize(
    ("reply", "letter"),
    [
        ("B", "B"),
        ("b", "B"),
        ("(B)", "B"),
        ("B.", "B"),
        ("[B]", "B"),
        ("**B**", "B"),
        (" B)\n", "B"),
        ("Answer: B", "B"),
        ("answer: b", "B"),
        ("ANSWER - C", "C"),
        ("The answer is B) cat", "B"),
        ("The answer is (C).", "C"),
        ("The correct answer is D", "D"),
        ("I believe the answer is d.", "D"),
        ("Ответ: C", "C"),
        ("C) bird", "C"),
        ("C. bird", "C"),
        ("(A) dog", "A"),
        ("Option D", "D"),
        ("I would choose option C because it flies", "C"),
        ("cat", "B"),  # the exact text of an option
        ("Cat.", "B"),
        ("It is a fish.", "D"),  # one option mentioned
        ("I think C", "C"),
        ("The answer is B, not C", "B"),
        ("Answer: C. Explanation: option A is wrong because dogs bark", "C"),
        ("A is correct", "A"),
    ],
)
def test_letter_extraction(reply, letter):
    assert extract_choice(reply, ANIMALS) == letter


@pytest.mark.parametrize(
    "reply",
    [
        "",
        "Apple",  # "A" inside a word
        "BANANA",
        "Absolutely",
        "A nice picture of a car",  # the article "A"
        "I think so",  # the pronoun "I"
        "The answer is a dog",  # "a" as article after "answer is"; no option says dog
        "E",  # beyond the options
        "A or C",  # two letters: ambiguous
        "red or blue",  # two options mentioned: ambiguous
        "Both A and B could be right",
    ],
)
def test_distractors_pick_nothing(reply):
    assert extract_choice(reply, COLOURS) is None


def test_most_specific_option_text_wins():
    choices = ["cat", "black cat", "dog"]
    assert extract_choice("It is a black cat", choices) == "B"
    assert extract_choice("a cat, surely", choices) == "A"


def test_letters_beyond_four_options():
    choices = [str(i) for i in range(8)]
    assert extract_choice("Answer: H", choices) == "H"
    assert extract_choice("Answer: I", choices) is None


def mc(answer: str, choices=ANIMALS) -> Sample:
    return Sample(id="q", question="Which animal?", answer=answer, choices=choices)


@pytest.mark.parametrize(
    ("answer", "letter"), [("B", "B"), ("b", "B"), ("(B)", "B"), ("cat", "B"), ("Fish", "D")]
)
def test_gold_letter_from_letter_or_option_text(answer, letter):
    assert gold_letter(mc(answer)) == letter


def test_accuracy_multiple_choice():
    assert accuracy("The answer is B) cat", mc("B")) == 1.0
    assert accuracy("cat", mc("B")) == 1.0
    assert accuracy("(C)", mc("B")) == 0.0
    assert accuracy("Apple", mc("A")) == 0.0
    assert accuracy("", mc("A")) == 0.0


def test_accuracy_without_choices_is_normalized_exact_match():
    free = Sample(id="q", question="What colour?", answer="Red")
    assert accuracy(" red. ", free) == 1.0
    assert accuracy("dark red", free) == 0.0
