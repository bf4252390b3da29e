"""VQA accuracy against values worked out by hand from the official rule."""

from __future__ import annotations

from itertools import combinations

import pytest

from vlmbench.datasets.schema import Sample
from vlmbench.metrics import get_metric, normalize_vqa_answer, vqa_score
from vlmbench.metrics.vqa import textvqa_score


def sample(answers: list[str] | None, answer: str = "unused") -> Sample:
    metadata = {} if answers is None else {"answers": answers}
    return Sample(id="v", question="q", answer=answer, metadata=metadata)


def official_accuracy(prediction: str, answers: list[str]) -> float:
    """The evaluation script's loop, written out: every 9-of-10 subset, min(matches / 3, 1)."""
    subsets = list(combinations(range(len(answers)), len(answers) - 1))
    return sum(min(sum(answers[i] == prediction for i in subset) / 3, 1) for subset in subsets) / len(subsets)


@pytest.mark.parametrize(
    ("agreeing", "expected"),
    [
        (0, 0.0),
        (1, 0.3),  # 9 subsets see 1 match (1/3), the one without it sees 0: 9/30
        (2, 0.6),  # 8 subsets × 2/3 + 2 × 1/3 = 18/3 / 10
        (3, 0.9),  # 7 subsets × 1 + 3 × 2/3 = 9 / 10
        (4, 1.0),
        (10, 1.0),
    ],
)
def test_ten_annotators_match_the_official_subset_average(agreeing, expected):
    answers = ["cat"] * agreeing + ["dog"] * (10 - agreeing)
    assert vqa_score("cat", sample(answers)) == pytest.approx(expected)
    assert vqa_score("cat", sample(answers)) == pytest.approx(official_accuracy("cat", answers))


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("Two", "2"),
        ("the cat.", "cat"),
        ("A Dog!", "dog"),
        ("dont", "don't"),
        ("don't", "don't"),
        ("1,000", "1000"),
        ("2.5", "2.5"),
        ("x-ray", "x ray"),
        ("  yes  ", "yes"),
        ("(none)", "0"),
        ("3.", "3"),  # the official period rule only spares a period before a digit
        (".5", ".5"),
        ("a,b", "b"),  # a glued comma becomes a space, then "a" is an article
        ("yes, sir", "yes sir"),  # a comma next to a space is deleted
        ("1,000 (x-ray)", "1000 xray"),  # a comma between digits deletes every mark
        ("im", "im"),  # the official table's "Im" key is capitalised, so never matches
        ("somebody'd", "somebodyd"),  # the official table's reversed entry
        ("yes" + "." * 40, "yes" + "." * 8),  # at most 32 periods go
    ],
)
def test_normalization(text, normalized):
    assert normalize_vqa_answer(text) == normalized


def test_normalization_makes_spellings_agree():
    answers = ["two"] * 3 + ["2 cats"] * 7
    assert vqa_score("2", sample(answers)) == pytest.approx(0.9)
    assert vqa_score("The two.", sample(answers)) == pytest.approx(0.9)


def test_single_reference_is_exact_match_after_normalization():
    assert vqa_score("Three", sample(None, answer="3")) == 1.0
    assert vqa_score("4", sample(None, answer="3")) == 0.0


def test_two_annotators_need_only_the_other_one():
    # Leaving out "cat" leaves "dog" (0); leaving out "dog" leaves "cat" (1).
    assert vqa_score("cat", sample(["cat", "dog"])) == pytest.approx(0.5)
    assert vqa_score("cat", sample(["cat", "cat"])) == 1.0


def test_registered_with_aliases():
    assert get_metric("VQA").name == "vqa_score"
    assert get_metric("vqa-score").higher_is_better


def test_textvqa_score_tokenizes_like_evalai_first():
    answers = ["john 's"] * 10
    assert textvqa_score("John's", sample(answers)) == 1.0
    assert vqa_score("John's", sample(answers)) == 0.0
