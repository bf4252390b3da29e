"""exact match, CER, WER and ANLS against independent references."""

from __future__ import annotations

import random

import pytest

from vlmbench.datasets.schema import Sample
from vlmbench.metrics import anls, cer, exact_match, normalize_answer, wer


def sample(answer: str, **extra) -> Sample:
    return Sample(id="s", question="q", answer=answer, **extra)


def levenshtein(a, b) -> int:
    """Textbook dynamic programme over any two sequences (the reference)."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


# --- exact match -----------------------------------------------------------


@pytest.mark.parametrize(
    ("prediction", "answer", "expected"),
    [
        ("Paris", "Paris", 1.0),
        ("  paris. ", "Paris", 1.0),
        ("PARIS!", "paris", 1.0),
        ("New   York\n", "new york", 1.0),
        ("Straße", "STRASSE", 1.0),  # casefold, not lower
        ("１２３", "123", 1.0),  # full-width digits (NFKC)
        ("Pari", "Paris", 0.0),
        ("C", "C++", 0.0),  # only sentence punctuation is stripped
        ("Paris, France", "Paris", 0.0),
        ("", "Paris", 0.0),
    ],
)
def test_exact_match_normalization(prediction, answer, expected):
    assert exact_match(prediction, sample(answer)) == expected


def test_normalize_answer():
    assert normalize_answer("  The  Answer:\tYES?! ") == "the answer: yes"


def test_exact_match_accepts_any_listed_answer():
    s = sample("colour", metadata={"answers": ["color", "Colour."]})
    assert exact_match("Color", s) == 1.0
    assert exact_match("colr", s) == 0.0


# --- CER / WER ---------------------------------------------------------------


def test_cer_textbook_values():
    assert cer("sitting", sample("kitten")) == pytest.approx(3 / 6)
    assert cer("kitten", sample("kitten")) == 0.0
    assert cer("flaw", sample("lawn")) == pytest.approx(2 / 4)


def test_wer_textbook_values():
    # substitution sat→sit and deletion of one "the": 2 edits over 6 words
    assert wer("the cat sit on mat", sample("the cat sat on the mat")) == pytest.approx(2 / 6)
    # one substitution and one insertion over 3 words
    assert wer("i love dogs too", sample("i love cats")) == pytest.approx(2 / 3)


def test_error_rates_can_exceed_one():
    assert cer("abcdef", sample("ab")) == pytest.approx(2.0)
    assert wer("a b c d", sample("a")) == pytest.approx(3.0)


def test_whitespace_is_collapsed_before_counting():
    assert cer("  total:   42 RUB ", sample("total: 42\nRUB")) == 0.0
    assert wer("total:\t42  RUB", sample("total: 42 RUB")) == 0.0


def test_empty_reference_does_not_crash():
    assert cer("", sample("")) == 0.0
    assert wer("  ", sample(" ")) == 0.0
    assert cer("anything", sample("")) == 1.0
    assert wer("anything", sample("")) == 1.0


def test_empty_prediction_is_all_deletions():
    assert cer("", sample("hello")) == 1.0
    assert wer("", sample("hello world")) == 1.0


def test_cer_is_case_sensitive():
    assert cer("Hello", sample("hello")) == pytest.approx(1 / 5)


@pytest.mark.parametrize("seed", range(5))
def test_cer_and_wer_match_a_handwritten_levenshtein(seed):
    rng = random.Random(seed)
    alphabet = "abcя ёж"
    for _ in range(40):
        ref = " ".join("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 5))).split()) or "x"
        hyp = " ".join("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))).split())
        assert cer(hyp, sample(ref)) == pytest.approx(levenshtein(ref, hyp) / len(ref))
        words = levenshtein(ref.split(), hyp.split())
        assert wer(hyp, sample(ref)) == pytest.approx(words / len(ref.split()))


# --- ANLS --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prediction", "answer", "expected"),
    [
        ("hello", "hello", 1.0),
        ("HELLO ", "hello", 1.0),  # case and outer space do not count
        ("helo", "hello", 1 - 1 / 5),  # 1 edit / 5 chars
        ("abd", "abc", 1 - 1 / 3),
        ("abcde", "abcdefgh", 1 - 3 / 8),  # 3 insertions / longer length 8
        ("ab", "abcd", 0.0),  # distance exactly 0.5 is not below the threshold
        ("abc", "abcdef", 0.0),  # 0.5 again
        ("abcd", "abcdefg", 1 - 3 / 7),  # 0.43 < 0.5 still scores
        ("xyz", "hello", 0.0),
        ("", "hello", 0.0),
        ("", "", 1.0),
    ],
)
def test_anls_hand_computed(prediction, answer, expected):
    assert anls(prediction, sample(answer)) == pytest.approx(expected)


def test_anls_takes_the_best_of_several_answers():
    s = sample("1 200 RUB", metadata={"answers": ["1200 RUB", "1200"]})
    assert anls("1200", s) == 1.0
    assert anls("120", s) == pytest.approx(1 - 1 / 4)


def test_anls_on_multiple_choice_accepts_the_option_text():
    s = sample("B", choices=["dog", "cat"])
    assert anls("B", s) == 1.0
    assert anls("cats", s) == pytest.approx(1 - 1 / 4)
