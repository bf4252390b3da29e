"""score_job: partial jobs, errors, defaults, and the rows it returns."""

from __future__ import annotations

import pytest

from vlmbench.datasets.schema import Sample
from vlmbench.jobfiles import Prediction
from vlmbench.metrics import MetricError, default_metrics, score_job

META = dict(job_id="job1", model_name="tiny", framework="transformers", dataset="docs", task="fields")


def samples() -> list[Sample]:
    return [
        Sample(id="a", question="total?", answer="42", doc_class="invoice", question_type="field"),
        Sample(id="b", question="total?", answer="17", doc_class="invoice", question_type="field"),
        Sample(id="c", question="date?", answer="2024-05-03", doc_class="receipt", question_type="field"),
        Sample(id="d", question="read", answer="hello world", doc_class="receipt", question_type="full_text"),
    ]


def rows_by(rows, aggregator, metric):
    return {r.group: r for r in rows if r.aggregator == aggregator and r.metric == metric}


def test_only_predicted_samples_are_scored():
    predictions = [
        Prediction(id="a", prompt="p", answer="42"),
        Prediction(id="c", prompt="p", answer="2024-05-03"),
    ]
    rows = score_job(samples(), predictions, ["exact_match"], ["general", "by_doc_type"], **META)
    general = rows_by(rows, "general", "exact_match")["all"]
    assert general.n == 2 and general.value == 1.0 and general.n_errors == 0
    by_doc = rows_by(rows, "by_doc_type", "exact_match")
    assert by_doc["invoice"].n == 1 and by_doc["receipt"].n == 1


def test_errors_score_as_empty_and_are_counted():
    predictions = [
        Prediction(id="a", prompt="p", answer="42"),
        Prediction(id="b", prompt="p", error="CUDA out of memory"),
        Prediction(id="c", prompt="p", answer=None),
        Prediction(id="d", prompt="p", answer="ignored", error="timeout"),  # an error's answer is not scored
    ]
    rows = score_job(samples(), predictions, ["exact_match", "cer"], ["general", "by_id"], **META)
    general_em = rows_by(rows, "general", "exact_match")["all"]
    assert general_em.value == pytest.approx(1 / 4) and general_em.n == 4 and general_em.n_errors == 3
    per_sample_cer = rows_by(rows, "by_id", "cer")
    assert per_sample_cer["b"].value == 1.0 and per_sample_cer["d"].value == 1.0
    assert per_sample_cer["a"].value == 0.0 and per_sample_cer["a"].n_errors == 0


def test_rows_carry_job_metadata_and_canonical_names():
    predictions = [Prediction(id=s.id, prompt="p", answer=s.answer) for s in samples()]
    rows = score_job(samples(), predictions, ["CER", "ExactMatch"], ["overall"], **META)
    assert {(r.metric, r.aggregator) for r in rows} == {("cer", "general"), ("exact_match", "general")}
    for row in rows:
        assert (row.job_id, row.model_name, row.framework, row.dataset, row.task) == (
            "job1", "tiny", "transformers", "docs", "fields"
        )
    cer_row = next(r for r in rows if r.metric == "cer")
    assert cer_row.higher_is_better is False and cer_row.value == 0.0
    assert cer_row.ci_low == 0.0 and cer_row.ci_high == 0.0


def test_a_retried_sample_counts_once_with_its_last_answer():
    predictions = [Prediction(id="a", prompt="p", error="boom"), Prediction(id="a", prompt="p", answer="42")]
    rows = score_job(samples(), predictions, ["exact_match"], ["general"], **META)
    assert rows[0].n == 1 and rows[0].value == 1.0 and rows[0].n_errors == 0


def test_no_predictions_no_rows():
    assert score_job(samples(), [], ["exact_match"], ["general"], **META) == []


def test_unknown_metric_or_aggregator_fails_before_scoring():
    predictions = [Prediction(id="a", prompt="p", answer="42")]
    with pytest.raises(MetricError, match="unknown metric"):
        score_job(samples(), predictions, ["exact_match", "bleu9000"], ["general"], **META)
    with pytest.raises(MetricError, match="unknown aggregator"):
        score_job(samples(), predictions, ["exact_match"], ["by_page"], **META)


def test_defaults_when_the_run_names_no_metrics():
    predictions = [Prediction(id=s.id, prompt="p", answer=s.answer) for s in samples()]
    rows = score_job(samples(), predictions, [], [], **META)
    assert {r.metric for r in rows} == {"exact_match", "anls", "cer", "wer"}
    assert {r.aggregator for r in rows} == {"general", "by_doc_type"}


def test_multiple_choice_samples_default_to_accuracy():
    mc = [Sample(id="q", question="?", answer="B", choices=["dog", "cat"])]
    rows = score_job(mc, [Prediction(id="q", prompt="p", answer="Answer: B")], [], ["general"], **META)
    assert [(r.metric, r.value) for r in rows] == [("accuracy", 1.0)]


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        ({"full_text"}, ["cer", "wer"]),
        ({"field"}, ["exact_match", "anls"]),
        ({"fields_json"}, ["field_f1"]),
        ({"multiple_choice"}, ["accuracy"]),
        ({"", "multiple_choice"}, ["accuracy"]),
        ({"vqa"}, ["exact_match", "anls"]),
        (set(), ["exact_match", "anls"]),
        ({"Full Text", "field"}, ["exact_match", "anls", "cer", "wer"]),
    ],
)
def test_default_metrics(types, expected):
    assert default_metrics(types) == expected
