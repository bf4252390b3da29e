"""score_job: partial jobs, errors, defaults, and the rows it returns."""

from __future__ import annotations

import json
import math

import pytest

from vlmbench.datasets.schema import Sample
from vlmbench.metrics import MetricError, default_metrics
from vlmbench.metrics import score_job as score_job_full
from vlmbench.rundir.records import Prediction, SampleScore


def score_job(*args, **kwargs):
    return score_job_full(*args, **kwargs).rows

META = {"job_id": "job1", "model_name": "tiny", "framework": "transformers", "dataset": "docs", "task": "fields"}


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
    # two of four planned samples answered: the figure speaks for half the job
    assert general.n_total == 4 and general.coverage == 0.5 and not general.complete
    by_doc = rows_by(rows, "by_doc_type", "exact_match")
    assert by_doc["invoice"].n == 1 and by_doc["receipt"].n == 1


def test_failed_samples_are_counted_not_scored_as_wrong():
    predictions = [
        Prediction(id="a", prompt="p", answer="42"),
        Prediction(id="b", prompt="p", error="CUDA out of memory"),
        Prediction(id="c", prompt="p", answer=None),
        Prediction(id="d", prompt="p", answer="ignored", error="timeout"),  # an error's answer is not scored
    ]
    rows = score_job(samples(), predictions, ["exact_match", "cer"], ["general", "by_id"], **META)
    general_em = rows_by(rows, "general", "exact_match")["all"]
    assert general_em.value == 1.0 and general_em.n == 1 and general_em.n_errors == 3
    assert general_em.coverage == pytest.approx(1 / 4)
    per_sample_cer = rows_by(rows, "by_id", "cer")
    assert math.isnan(per_sample_cer["b"].value) and per_sample_cer["b"].n_errors == 1
    assert math.isnan(per_sample_cer["d"].value) and per_sample_cer["d"].n == 0
    assert per_sample_cer["a"].value == 0.0 and per_sample_cer["a"].n_errors == 0


def test_a_model_that_failed_everywhere_has_no_figure():
    predictions = [Prediction(id=s.id, prompt="p", error="RuntimeError: boom") for s in samples()]
    rows = score_job(samples(), predictions, ["exact_match"], ["general"], **META)
    assert len(rows) == 1 and math.isnan(rows[0].value)
    assert (rows[0].n, rows[0].n_errors, rows[0].n_total, rows[0].coverage) == (0, 4, 4, 0.0)


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


def test_per_sample_records_hold_reference_answer_error_and_each_metric():
    predictions = [Prediction(id="a", prompt="p", answer="42"), Prediction(id="b", prompt="p", error="boom"),
                   Prediction(id="c", prompt="p", answer="2024-05-04")]
    text = score_job_full(samples(), predictions, ["exact_match", "cer"], ["general"], **META).jsonl()
    records = [json.loads(line) for line in text.splitlines()]
    assert [r["id"] for r in records] == ["a", "b", "c"]  # d was never predicted
    assert records[0] == {"id": "a", "reference": "42", "answer": "42", "error": None,
                          "scores": {"exact_match": 1.0, "cer": 0.0}}
    assert records[1]["error"] == "boom" and records[1]["scores"] == {"exact_match": None, "cer": None}
    assert records[2]["scores"]["exact_match"] == 0.0 and records[2]["scores"]["cer"] == pytest.approx(0.1)
    for record in records:
        SampleScore.model_validate(record)


def test_group_by_any_annotation_column_with_intervals():
    langs = [Sample(id=str(i), question="?", answer="yes", metadata={"Lang": "ru" if i % 3 else "en"})
             for i in range(30)]
    predictions = [Prediction(id=s.id, prompt="p", answer="yes" if int(s.id) % 2 else "no") for s in langs]
    rows = rows_by(score_job(langs, predictions, ["exact_match"], ["by_lang"], **META), "by_lang", "exact_match")
    assert set(rows) == {"ru", "en"}
    assert rows["en"].n == 10 and rows["en"].value == pytest.approx(5 / 10)
    assert rows["ru"].n == 20 and rows["ru"].value == pytest.approx(10 / 20)
    assert rows["ru"].ci_low < rows["ru"].value < rows["ru"].ci_high


def test_grouping_by_a_column_no_sample_has_is_refused_with_close_names():
    predictions = [Prediction(id="a", prompt="p", answer="42")]
    with pytest.raises(MetricError, match="no sample has the column 'page'") as caught:
        score_job(samples(), predictions, ["exact_match"], ["by_page"], **META)
    assert "doc_class" in caught.value.problems[0].hint


def test_bleu_and_chrf_groups_are_corpus_level_samples_sentence_level():
    import sacrebleu

    docs = [Sample(id=str(i), question="?", answer=ref, doc_class="a" if i < 3 else "b")
            for i, ref in enumerate(["the cat sat on the mat", "a quick brown fox", "hello there world",
                                     "it is raining today", "we went home early"])]
    hyps = ["the cat is on the mat", "a brown fox", "hello world", "it rains today", "we went home"]
    predictions = [Prediction(id=s.id, prompt="p", answer=h) for s, h in zip(docs, hyps)]
    rows = score_job(docs, predictions, ["bleu", "chrf"], ["general", "by_doc_type", "by_id"], **META)
    refs = [s.answer for s in docs]
    assert rows_by(rows, "general", "bleu")["all"].value == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs]).score / 100)
    assert rows_by(rows, "general", "chrf")["all"].value == pytest.approx(sacrebleu.corpus_chrf(hyps, [refs]).score / 100)
    assert rows_by(rows, "by_doc_type", "bleu")["b"].value == pytest.approx(
        sacrebleu.corpus_bleu(hyps[3:], [refs[3:]]).score / 100)
    assert rows_by(rows, "by_id", "bleu")["1"].value == pytest.approx(sacrebleu.sentence_bleu(hyps[1], [refs[1]]).score / 100)
    general = rows_by(rows, "general", "bleu")["all"]
    assert general.ci_low <= general.value <= general.ci_high and general.ci_low < general.ci_high


def test_unknown_metric_or_aggregator_fails_before_scoring():
    predictions = [Prediction(id="a", prompt="p", answer="42")]
    with pytest.raises(MetricError, match="unknown metric"):
        score_job(samples(), predictions, ["exact_match", "bleu9000"], ["general"], **META)
    with pytest.raises(MetricError, match="unknown aggregator"):
        score_job(samples(), predictions, ["exact_match"], ["pages"], **META)
    with pytest.raises(MetricError, match="unknown aggregator 'by_doc_clas'"):  # a typo, not a column
        score_job(samples(), predictions, ["exact_match"], ["by_doc_clas"], **META)


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


def test_per_sample_lines_keep_any_text_as_json():
    tricky = [Sample(id='q"1', question="?", answer='счёт "№ 5"\n\\ end', doc_class="x")]
    predictions = [Prediction(id='q"1', prompt="p", answer="\u2028 tab\there")]
    (record,) = [json.loads(line) for line in score_job_full(tricky, predictions, ["cer"], ["general"], **META)
                 .jsonl().splitlines()]
    assert record["id"] == 'q"1' and record["reference"] == 'счёт "№ 5"\n\\ end'
    assert record["answer"] == "\u2028 tab\there" and record["scores"]["cer"] > 0


def test_scoring_in_slices_changes_no_value_no_interval_and_no_line(monkeypatch):
    """Metrics scored a few pairs at a time, bootstrap draws in small chunks and scores.jsonl in small pieces
    give what one pass over everything gives."""
    from vlmbench.metrics import aggregate, scoring

    words = ["invoice", "total", "счёт", "итого", "1 250,00", "Москва"]
    many = [Sample(id=f"s{i}", question="?", answer=f"{words[i % 6]} {words[i * 7 % 6]}", doc_class=f"c{i % 3}",
                   question_type="field") for i in range(300)]
    predictions = [Prediction(id=s.id, prompt="p", answer=None if i % 17 == 0 else s.answer[: 3 + i % 9],
                              error="boom" if i % 17 == 0 else None) for i, s in enumerate(many)]

    def scored():
        result = score_job_full(many, predictions, ["cer", "anls", "chrf"], ["general", "by_doc_type", "by_id"],
                                **META)
        return [row.model_dump_json() for row in result.rows], result.jsonl()  # as text: NaN == NaN there

    whole = scored()
    monkeypatch.setattr(scoring, "SCORE_SLICE", 7)
    monkeypatch.setattr(scoring, "JSONL_PIECE_LINES", 11)
    monkeypatch.setattr(aggregate, "_CHUNK_ELEMENTS", 5_000)
    assert scored() == whole
