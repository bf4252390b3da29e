"""VLMHyperBench's metric and aggregator names, and its group figures, against vlmbench's.

metric_evaluator (github.com/VLMHyperBenchTeam/metric_evaluator, tag 0.1.1,
the version VLMHyperBench's eval stage installs) accepts the metrics WER,
CER and BLEU in any case (it upper-cases them) and the aggregators by_id,
by_doc_type, by_doc_question and general. Its group CER/WER is jiwer's on
the group's lists (pooled), which ``cer_pooled``/``wer_pooled`` give; its
BLEU is sacrebleu's 0..100 with answer and reference in swapped roles.
"""

from __future__ import annotations

import jiwer
import pytest
import sacrebleu

from vlmbench.datasets.schema import Sample
from vlmbench.metrics import get_metric, resolve_aggregator, score_job
from vlmbench.rundir.records import Prediction

THEIR_METRICS = {"WER": "wer", "CER": "cer", "BLEU": "bleu"}
THEIR_AGGREGATORS = ["by_id", "by_doc_type", "by_doc_question", "general"]

REFERENCES = ["Иванов Иван Иванович", "353-721-310 54", "Серия 45 06 номер 123456", "Москва", "ok"]
ANSWERS = ["Иванов Иван", "353-721-310 54", "Серия 45 06 номер 123465", "Масква", "ok then"]
CLASSES = ["passport", "snils", "passport", "passport", "snils"]


@pytest.mark.parametrize("spelling", [*THEIR_METRICS, *map(str.lower, THEIR_METRICS), "Cer", "bleu"])
def test_their_metric_names_resolve(spelling):
    assert get_metric(spelling).name == THEIR_METRICS[spelling.upper()]


@pytest.mark.parametrize("name", THEIR_AGGREGATORS)
def test_their_aggregator_names_resolve_to_themselves(name):
    assert resolve_aggregator(name) == name


def test_overall_which_their_example_asks_for_and_they_reject_is_general_here():
    assert resolve_aggregator("overall") == "general"


@pytest.mark.parametrize(("spelling", "name"), [("CER_pooled", "cer_pooled"), ("corpus_cer", "cer_pooled"),
                                                ("WER-Pooled", "wer_pooled"), ("pooled_wer", "wer_pooled")])
def test_pooled_names_resolve(spelling, name):
    assert get_metric(spelling).name == name


def scored(metrics: list[str], aggregators: list[str]) -> dict[tuple[str, str, str], float]:
    samples = [Sample(id=f"s{i}", question="?", answer=ref, doc_class=cls, question_type="field")
               for i, (ref, cls) in enumerate(zip(REFERENCES, CLASSES, strict=True))]
    predictions = [Prediction(id=s.id, prompt="?", answer=a) for s, a in zip(samples, ANSWERS, strict=True)]
    result = score_job(samples, predictions, metrics, aggregators, job_id="j", model_name="m",
                       framework="f", dataset="d", task=None)
    return {(row.metric, row.aggregator, row.group): row.value for row in result.rows}


def test_pooled_group_figures_equal_jiwer_on_the_groups_lists_as_metric_evaluator_computes_them():
    values = scored(["cer_pooled", "wer_pooled"], ["general", "by_doc_type"])
    assert values["cer_pooled", "general", "all"] == pytest.approx(jiwer.cer(REFERENCES, ANSWERS))
    assert values["wer_pooled", "general", "all"] == pytest.approx(jiwer.wer(REFERENCES, ANSWERS))
    for doc_class in set(CLASSES):
        refs = [r for r, c in zip(REFERENCES, CLASSES, strict=True) if c == doc_class]
        answers = [a for a, c in zip(ANSWERS, CLASSES, strict=True) if c == doc_class]
        assert values["cer_pooled", "by_doc_type", doc_class] == pytest.approx(jiwer.cer(refs, answers))
        assert values["wer_pooled", "by_doc_type", doc_class] == pytest.approx(jiwer.wer(refs, answers))


def test_per_sample_pooled_values_are_cer_and_wer_and_the_group_figures_differ_from_the_mean():
    values = scored(["cer", "cer_pooled", "wer", "wer_pooled"], ["by_id", "general"])
    for i in range(len(REFERENCES)):
        assert values["cer_pooled", "by_id", f"s{i}"] == values["cer", "by_id", f"s{i}"]
        assert values["wer_pooled", "by_id", f"s{i}"] == values["wer", "by_id", f"s{i}"]
    # 9 + 0 + 2 + 1 + 5 character edits against 20 + 14 + 24 + 6 + 2 reference characters: the
    # mean weighs "ok" → "ok then" (2.5) as much as the rest together, the pooled rate by its length.
    assert values["cer_pooled", "general", "all"] == pytest.approx(17 / 66)
    assert values["cer", "general", "all"] == pytest.approx((9 / 20 + 0 / 14 + 2 / 24 + 1 / 6 + 5 / 2) / 5)


def test_pooled_batch_agrees_with_one_at_a_time():
    samples = [Sample(id=str(i), question="?", answer=ref) for i, ref in enumerate(REFERENCES)]
    for name in ("cer_pooled", "wer_pooled"):
        spec = get_metric(name)
        one_at_a_time = [spec(a, s) for a, s in zip(ANSWERS, samples, strict=True)]
        assert list(spec.score_many(ANSWERS, samples)) == one_at_a_time


def test_empty_references_pool_like_one_empty_reference():
    spec = get_metric("cer_pooled")
    stats = spec.corpus.stats(["", "ab"], [Sample(id="a", question="?", answer=""),
                                           Sample(id="b", question="?", answer="")])
    assert spec.corpus.score(stats.sum(0)) == 1.0
    assert spec.corpus.score(stats[:1].sum(0)) == 0.0


def test_their_bleu_is_ours_times_100_with_answer_and_reference_swapped():
    # Ours: sacrebleu's corpus BLEU of the answers against the references, / 100.
    ours = scored(["bleu"], ["general"])["bleu", "general", "all"]
    assert ours * 100 == pytest.approx(sacrebleu.corpus_bleu(ANSWERS, [REFERENCES]).score)
    # metric_evaluator passes the references as sacrebleu's hypotheses and the answers as its
    # references: the brevity penalty and the n-gram precisions then measure the other side.
    theirs = sacrebleu.corpus_bleu(REFERENCES, [ANSWERS]).score
    assert theirs != pytest.approx(ours * 100)
    swapped = scored_swapped()
    assert swapped * 100 == pytest.approx(theirs)


def scored_swapped() -> float:
    """Our corpus BLEU with each sample's answer and reference exchanged: their figure / 100."""
    samples = [Sample(id=str(i), question="?", answer=answer) for i, answer in enumerate(ANSWERS)]
    predictions = [Prediction(id=s.id, prompt="?", answer=reference)
                   for s, reference in zip(samples, REFERENCES, strict=True)]
    result = score_job(samples, predictions, ["bleu"], ["general"], job_id="j", model_name="m",
                       framework="f", dataset="d", task=None)
    return result.rows[0].value
