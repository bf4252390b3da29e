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


@pytest.mark.parametrize(
    ("reply", "letter"),
    [
        ("B\n\nExplanation: A is wrong because dogs bark.", "B"),  # the letter first, other options after
        ("D\n\nReason: option A cannot be confirmed.", "D"),
        ("(B) cat. A dog (A) would be bigger.", "B"),
        ("The correct option is B because the animal purrs.", "B"),
        ("I'd go with C.", "C"),
        ("Considering options A through D, only one fits: C.", "C"),
        ("<think>A? No, C is a bird... it is B.</think>\nAnswer: D", "D"),  # only what follows </think>
        ("B<|im_end|>", "B"),
        ("C</s>", "C"),
        ("**Answer:** C", "C"),
        ("$\\boxed{D}$", "D"),
        ('{"answer": "B"}', "B"),
        ("It's definitely not C, so it must be A.", "A"),
        ("It is not a dog, it is a cat.", "B"),
        ("答案是C。", "C"),
    ],
)
def test_letter_extraction_from_longer_replies(reply, letter):
    assert extract_choice(reply, ANIMALS) == letter


@pytest.mark.parametrize(
    ("reply", "letter"),
    [
        ("Ответ: \u0412", "B"),  # Cyrillic Ve, the twin of Latin B
        ("Ответ: \u0421", "C"),  # Cyrillic Es
        ("Правильный ответ — \u0410.", "A"),
        ("\u0412", "B"),
        ("Ответ: \u0411", "B"),  # Б has no Latin twin: Russian lettering А Б В Г
        ("Ответ: \u0413", "D"),
        ("\u0412 данном случае правильный ответ C.", "C"),  # the preposition "в", not a letter
        ("\u0421 учётом изображения, ответ: A", "A"),  # the preposition "с"
    ],
)
def test_cyrillic_letters(reply, letter):
    assert extract_choice(reply, ANIMALS) == letter


@pytest.mark.parametrize(
    "reply",
    [
        "Answer: B, C",
        "The answer is A and B.",
        "(B) or (C)",
        "A/B",
        "A. red\nB. green\nC. blue\nD. yellow",  # the options repeated, one per line
        "A) red B) green C) blue D) yellow",  # or on one line
        "A\nB\nC",
        "The answer is not A.",
        "Neither A nor B.",
        "It is either red or blue.",
        "Answer: F",
    ],
)
def test_replies_naming_several_options_or_none_pick_nothing(reply):
    assert extract_choice(reply, COLOURS) is None


def test_the_article_a_after_answer_is_not_option_a():
    choices = ["A cat on a mat", "A dog in a park", "A bird in a cage"]
    assert extract_choice("Answer: A dog in a park", choices) == "B"
    assert extract_choice("The answer is A.", choices) == "A"
    assert extract_choice("The answer is A or B.", choices) is None
