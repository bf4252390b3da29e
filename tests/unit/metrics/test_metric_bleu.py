"""BLEU and chrF agree with sacrebleu's own corpus scores and known values."""

from __future__ import annotations

import subprocess
import sys

import pytest
import sacrebleu

from vlmbench.datasets.schema import Sample
from vlmbench.metrics import bleu, chrf, get_metric

REFERENCE = "the quick brown fox jumps over the lazy dog"
HYPOTHESIS = "the quick brown fox jumped over the lazy dog"


def sample(answer: str, **metadata) -> Sample:
    return Sample(id="t", question="translate", answer=answer, metadata=metadata)


def test_bleu_equals_sacrebleu_corpus_score_of_one_sentence():
    # Long enough that every n-gram order matches, where sentence and corpus BLEU coincide.
    expected = sacrebleu.corpus_bleu([HYPOTHESIS], [[REFERENCE]]).score / 100
    assert bleu(HYPOTHESIS, sample(REFERENCE)) == pytest.approx(expected)
    assert 0 < expected < 1


def test_chrf_equals_sacrebleu_corpus_score_of_one_sentence():
    expected = sacrebleu.corpus_chrf([HYPOTHESIS], [[REFERENCE]]).score / 100
    assert chrf(HYPOTHESIS, sample(REFERENCE)) == pytest.approx(expected)


def test_known_values():
    assert bleu(REFERENCE, sample(REFERENCE)) == pytest.approx(1.0)
    assert chrf(REFERENCE, sample(REFERENCE)) == pytest.approx(1.0)
    assert bleu("", sample(REFERENCE)) == 0.0
    assert chrf("xyz", sample("abc")) == 0.0
    # One wrong word of nine: 1-gram 8/9, 2-gram 6/8, 3-gram 4/7, 4-gram 2/6, no brevity penalty.
    assert bleu(HYPOTHESIS, sample(REFERENCE)) == pytest.approx((8 / 9 * 6 / 8 * 4 / 7 * 2 / 6) ** 0.25)


def test_every_listed_answer_is_a_reference():
    s = sample("a completely different sentence here", answers=[REFERENCE])
    assert bleu(REFERENCE, s) == pytest.approx(1.0)


def test_registered_names():
    assert get_metric("BLEU").name == "bleu"
    assert get_metric("chrF").name == "chrf"


def test_importing_metrics_does_not_import_sacrebleu():
    code = "import sys, vlmbench.metrics; print('sacrebleu' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
