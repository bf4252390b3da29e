"""Kendall tau of page orders against hand counts and the inversion formula."""

from __future__ import annotations

import random

import pytest

from vlmbench.datasets.schema import Sample
from vlmbench.metrics import MetricError, get_metric, kendall_tau, parse_order


def sample(answer: str) -> Sample:
    return Sample(id="o", question="order the pages", answer=answer)


def tau_from_inversions(permutation: list[int]) -> float:
    """Kendall tau of a full permutation against 0..n-1: 1 - 4·inversions / (n(n-1))."""
    n = len(permutation)
    inversions = sum(1 for i in range(n) for j in range(i + 1, n) if permutation[i] > permutation[j])
    return 1 - 4 * inversions / (n * (n - 1))


@pytest.mark.parametrize(
    ("prediction", "expected"),
    [
        ("[1, 2, 3, 4]", 1.0),
        ("[4, 3, 2, 1]", -1.0),
        ("1, 3, 2, 4", 4 / 6),  # one swapped pair of six: (5 - 1) / 6
        ('The order is ["2", "1", "3", "4"].', 4 / 6),
        ("2\n3\n4\n1", 0.0),  # C = 3 (2<3, 2<4, 3<4), D = 3
        ("1 2 3", 0.0),  # page 4 missing: its 3 pairs are discordant, the other 3 concordant
        ("1, 2, 2, 3, 4, 9", 1.0),  # repeats keep the first place; unknown items are ignored
        ("no idea", -1.0),
    ],
)
def test_hand_counted(prediction, expected):
    assert kendall_tau(prediction, sample("[1, 2, 3, 4]")) == pytest.approx(expected)


def test_full_permutations_match_the_inversion_formula():
    rng = random.Random(7)
    for n in (2, 3, 5, 9):
        for _ in range(20):
            permutation = rng.sample(range(n), n)
            reference = ", ".join(f"p{i}" for i in range(n))
            prediction = ", ".join(f"p{i}" for i in permutation)
            assert kendall_tau(prediction, sample(reference)) == pytest.approx(
                tau_from_inversions(permutation)
            )


def test_parse_order_forms_agree():
    expected = ["p3", "p1", "p2"]
    assert parse_order('["P3", "p1", "p2"]') == expected
    assert parse_order("p3; p1; p2") == expected
    assert parse_order("(p3) (p1) (p2)") == expected
    assert parse_order("[3, 1, 2]") == parse_order("3, 1, 2") == ["3", "1", "2"]


def test_single_item_and_empty_reference():
    assert kendall_tau("[7]", sample("7")) == 1.0
    assert kendall_tau("[8]", sample("7")) == -1.0
    with pytest.raises(MetricError, match="no order"):
        kendall_tau("[1]", sample("[]"))


def test_registered():
    spec = get_metric("Kendall-Tau")
    assert spec.name == "kendall_tau" and spec.higher_is_better
