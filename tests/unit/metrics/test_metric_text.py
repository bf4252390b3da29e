"""exact match, CER, WER and ANLS against independent references."""

from __future__ import annotations

import random

import numpy as np
import pytest

from vlmbench.datasets.schema import Sample
from vlmbench.metrics import anls, cer, exact_match, get_metric, normalize_answer, wer


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
        ("ab", "abcd", 0.5),  # similarity exactly 0.5 is not below the threshold: DocVQA keeps it
        ("abc", "abcdef", 0.5),  # 0.5 again
        ("ab", "abcde", 0.0),  # 0.4 < 0.5
        ("Hello  World", "hello world", 1.0),  # inner whitespace collapses
        ("strasse", "STRASSE", 1.0),
        ("straße", "STRASSE", 1 - 2 / 7),  # lower, not casefold: ß ≠ ss, 2 edits over 7
        ("ß", "s", 0.5),  # the length is the raw string's uppercased: "SS" is 2 long
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


# --- batch forms -------------------------------------------------------------------

WORDS = ["total", "Total", "ИТОГО", "сумма", "ёж", "1 200", "RUB", "ß", "İ", "ΟΔΟΣ",
         "", " ", "\t", "\n", "a", "ab"]


def random_pairs(seed: int, count: int) -> tuple[list[str], list[Sample]]:
    """Predictions and samples: Cyrillic, empty strings, whitespace runs,
    extra references and multiple-choice options."""
    rng = random.Random(seed)

    def text() -> str:
        return "".join(rng.choice(WORDS) + rng.choice(["", " ", "  "]) for _ in range(rng.randint(0, 4)))

    predictions, samples = [], []
    for i in range(count):
        extra = {}
        kind = rng.random()
        if kind < 0.25:
            extra["metadata"] = {"answers": [text() for _ in range(rng.randint(0, 3))]}
        elif kind < 0.35:
            extra = {"choices": [text(), text()], "metadata": {"page": 1}}
        answer = rng.choice(["A", "B"]) if "choices" in extra else text()
        reference = Sample(id=str(i), question="q", answer=answer, **extra)
        said = rng.choice([answer, text(), answer.upper() + " ", *reference.metadata.get("answers", [])])
        predictions.append(said)
        samples.append(reference)
    return predictions, samples


@pytest.mark.parametrize("name", ["cer", "wer", "anls", "exact_match"])
@pytest.mark.parametrize("seed", range(3))
def test_batch_form_equals_the_per_sample_function(name, seed):
    spec = get_metric(name)
    assert spec.batch is not None
    predictions, samples = random_pairs(seed, 2000)
    batch = spec.score_many(predictions, samples)
    one_by_one = np.array([spec(p, s) for p, s in zip(predictions, samples, strict=True)])
    assert np.array_equal(batch, one_by_one)  # the same floats, not just close ones
    assert len(set(one_by_one.tolist())) > 3 or name == "exact_match"


def test_batch_forms_collapse_any_whitespace():
    """Tabs and no-break spaces collapse in the batch forms as in the per-sample ones."""
    predictions = ["a b", "ёж", "", "a\tb", "x\u00a0y", "C++"]
    samples = [sample(answer) for answer in ["a b", "ёж!", "", "a b", "x y", "C"]]
    for name in ("cer", "wer", "anls", "exact_match"):
        spec = get_metric(name)
        assert np.array_equal(spec.score_many(predictions, samples),
                              [spec(p, s) for p, s in zip(predictions, samples, strict=True)]), name
    assert get_metric("cer").score_many(predictions, samples).tolist() == [0, 1 / 3, 0, 0, 0, 2]


def test_batch_forms_take_an_empty_batch():
    for name in ("cer", "wer", "anls", "exact_match"):
        assert get_metric(name).score_many([], []).shape == (0,)
