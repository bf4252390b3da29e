"""Field precision / recall / F1 of JSON extraction replies, counted by hand."""

from __future__ import annotations

import json

import pytest

from vlmbench.datasets.schema import Sample
from vlmbench.metrics import default_metrics, field_f1, field_precision, field_recall, get_metric
from vlmbench.metrics.fields import first_json, flatten, parse_number

REFERENCE = {
    "number": "INV-0042",
    "date": "2024-05-03",
    "total": "1,250.00",
    "buyer": {"name": "Anna Petrova"},
}


def sample(answer) -> Sample:
    text = answer if isinstance(answer, str) else json.dumps(answer)
    return Sample(id="f", question="fields as JSON", answer=text, question_type="fields_json")


def scores(prediction: str, answer=REFERENCE) -> tuple[float, float, float]:
    s = sample(answer)
    return field_precision(prediction, s), field_recall(prediction, s), field_f1(prediction, s)


def test_perfect_reply_in_a_fence_with_prose():
    reply = "Sure! Here it is:\n```json\n" + json.dumps(REFERENCE, indent=2) + "\n```\nAnything else?"
    assert scores(reply) == (1.0, 1.0, 1.0)


def test_partial_reply_counts_fields():
    # 2 right (number, buyer.name), 1 wrong (date), 1 extra (currency); 4 in the reference.
    reply = (
        '{"number": "inv-0042", "date": "03.05.2024", "buyer": {"name": " Anna  PETROVA"}, "currency": "EUR"}'
    )
    precision, recall, f1 = scores(reply)
    assert precision == pytest.approx(2 / 4)
    assert recall == pytest.approx(2 / 4)
    assert f1 == pytest.approx(2 * 0.5 * 0.5 / (0.5 + 0.5))


def test_precision_and_recall_differ():
    reply = '{"number": "INV-0042"}'
    precision, recall, f1 = scores(reply)
    assert (precision, recall) == (1.0, 0.25)
    assert f1 == pytest.approx(2 * 1 * 0.25 / 1.25)


@pytest.mark.parametrize("total", ["1250", "1 250.00", "1 250,00", "1250.0", 1250, 1250.0, "1.250,00"])
def test_numbers_compare_as_numbers(total):
    assert scores(json.dumps({"total": total}), {"total": "1,250.00"}) == (1.0, 1.0, 1.0)


@pytest.mark.parametrize(
    ("text", "number"),
    [("12,5", 12.5), ("1,234", 1234.0), ("-3", -3.0), (".5", 0.5), ("1'000'000", 1e6), ("2024-05-03", None),
     ("12 34", None), ("1.234.56", None), ("$5", None), ("abc", None)],
)  # fmt: skip
def test_parse_number(text, number):
    assert parse_number(text) == number


def test_wrong_number_and_booleans_are_not_numbers():
    assert scores('{"total": "1251"}', {"total": "1,250.00"})[2] == 0.0
    assert scores('{"paid": 1}', {"paid": True})[2] == 0.0
    assert scores('{"paid": true}', {"paid": True})[2] == 1.0


@pytest.mark.parametrize("reply", ["", "I cannot read this document.", "{not json}", "[1, 2]", '{"a": 1'])
def test_unparseable_reply_scores_zero(reply):
    assert scores(reply) == (0.0, 0.0, 0.0)


def test_first_object_is_taken_even_after_a_broken_brace():
    assert first_json('see {this} and {"a": 1} then {"b": 2}') == {"a": 1}


def test_flatten_nested_objects_and_lists():
    assert flatten({"a": {"b": 1, "c": [2, {"d": 3}]}, "e": {}}) == {
        "a.b": 1,
        "a.c.0": 2,
        "a.c.1.d": 3,
        "e": {},
    }


def test_plain_reference_is_one_field():
    assert scores("42.", answer="42") == (0.0, 0.0, 0.0)  # "42." is not a number, so text "42." vs "42"
    assert scores(" 42 ", answer="42") == (1.0, 1.0, 1.0)
    assert scores("forty-two", answer="42") == (0.0, 0.0, 0.0)


def test_registered_and_default_for_fields_json():
    assert get_metric("Field-F1").name == "field_f1"
    assert get_metric("json_recall").name == "field_recall"
    assert default_metrics({"fields_json"}) == ["field_f1"]
    assert default_metrics({"field", "fields_json"}) == ["exact_match", "anls", "field_f1"]
