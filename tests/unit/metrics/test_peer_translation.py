"""BLEU and chrF side by side with lmms-eval's own corpus aggregation (from its PyPI wheel)."""

from __future__ import annotations

import random

import pytest

from tests.peers import load_peer_module, stub_module
from vlmbench.datasets.schema import Sample
from vlmbench.metrics import score_job
from vlmbench.rundir.records import Prediction

META = dict(job_id="j", model_name="m", framework="f", dataset="d", task=None)
WORDS = ["the", "cat", "sat", "on", "mat", "a", "dog", "ran", "home", "счёт", "итого", "сумма", "к", "оплате",
         "invoice", "total", "due", "2024", "1 250,00", "руб."]


@pytest.fixture(scope="module")
def lmms_metrics():
    def identity_decorator(*args, **kwargs):
        return lambda fn: fn

    registry = stub_module("lmms_eval.api.registry", register_aggregation=identity_decorator,
                           register_metric=identity_decorator)
    return load_peer_module("lmms-eval", "lmms_eval/api/metrics.py", {
        "lmms_eval": stub_module("lmms_eval"), "lmms_eval.api": stub_module("lmms_eval.api"),
        "lmms_eval.api.registry": registry})


def corpus(seed: int, n: int) -> tuple[list[Sample], list[str]]:
    rng = random.Random(seed)
    samples, hypotheses = [], []
    for i in range(n):
        reference = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))
        words = reference.split()
        hypothesis = [w for w in words if rng.random() > 0.2] + [rng.choice(WORDS) for _ in range(rng.randint(0, 2))]
        samples.append(Sample(id=str(i), question="?", answer=reference, doc_class="ru" if i % 2 else "en"))
        hypotheses.append(" ".join(hypothesis))
    return samples, hypotheses


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_general_bleu_and_chrf_equal_lmms_evals_corpus_figures(lmms_metrics, seed):
    samples, hypotheses = corpus(seed, 60)
    predictions = [Prediction(id=s.id, prompt="p", answer=h) for s, h in zip(samples, hypotheses)]
    rows = score_job(samples, predictions, ["bleu", "chrf"], ["general", "by_doc_type"], **META).rows
    figure = {(r.metric, r.aggregator, r.group): r.value for r in rows}
    items = [(s.answer, h) for s, h in zip(samples, hypotheses)]  # lmms-eval's (reference, prediction) items
    assert figure["bleu", "general", "all"] * 100 == pytest.approx(lmms_metrics.bleu(items), abs=1e-9)
    assert figure["chrf", "general", "all"] * 100 == pytest.approx(lmms_metrics.chrf(items), abs=1e-9)
    russian = [item for item, s in zip(items, samples) if s.doc_class == "ru"]
    assert figure["bleu", "by_doc_type", "ru"] * 100 == pytest.approx(lmms_metrics.bleu(russian), abs=1e-9)


def test_a_corpus_figure_is_not_the_mean_of_sentence_scores(lmms_metrics):
    samples, hypotheses = corpus(5, 40)
    predictions = [Prediction(id=s.id, prompt="p", answer=h) for s, h in zip(samples, hypotheses)]
    rows = score_job(samples, predictions, ["bleu"], ["general", "by_id"], **META).rows
    general = next(r.value for r in rows if r.aggregator == "general")
    sentence_mean = sum(r.value for r in rows if r.aggregator == "by_id") / len(samples)
    assert abs(general - sentence_mean) > 0.01  # the two conventions differ; we report the corpus one
