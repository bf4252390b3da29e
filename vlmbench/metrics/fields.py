"""Field-level precision, recall and F1 for JSON extraction answers.

The reference is a JSON object (the synthetic documents' ``fields_json``
questions); the model's reply may wrap its JSON in a ```json fence or in
prose, so the first JSON object anywhere in the text is taken. Nested
objects and lists flatten to dotted keys (``buyer.name``, ``items.0.qty``)
so a field is one leaf value, and a field is right when its key exists in
both and the values agree after normalisation:

* text: NFKC, whitespace collapsed, casefolded;
* numbers: compared as numbers when both sides read as one, so
  ``"1 250.00"``, ``"1,250"``, ``"1 250,00"`` and ``1250`` agree. Grouping
  by space, comma, period or apostrophe is recognised only in groups of
  three digits, so ``"12,5"`` is 12.5 and a date such as ``2024-05-03``
  stays text. Currency signs are not stripped: ``"$5"`` is not ``5``.

A reply without a JSON object scores 0 on all three. A reference that is
not a JSON object (a plain ``field`` question in a mixed dataset) counts
as one unnamed field, right when the whole reply equals it.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from typing import Any

from vlmbench.datasets.schema import Sample
from vlmbench.metrics.registry import register_metric

_DECODER = json.JSONDecoder()
_GROUPED = re.compile(r"[+-]?\d{1,3}(?P<sep>[ ,.'])\d{3}(?:(?P=sep)\d{3})*(?:(?P<dec>[.,])\d+)?")
_PLAIN = re.compile(r"[+-]?\d+(?:[.,]\d+)?|[+-]?\d*\.\d+")


def first_json(text: str, opener: str = "{") -> Any | None:
    """The first JSON value starting with ``opener`` ("{" or "[") that parses, or None."""
    kind = dict if opener == "{" else list
    start = text.find(opener)
    while start != -1:
        try:
            value, _ = _DECODER.raw_decode(text, start)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, kind):
            return value
        start = text.find(opener, start + 1)
    return None


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaf values of nested objects and lists under dotted keys: {"a": {"b": 1}} → {"a.b": 1}."""
    if isinstance(value, dict):
        children = {str(k): v for k, v in value.items()}
    elif isinstance(value, list):
        children = {str(i): v for i, v in enumerate(value)}
    else:
        return {prefix: value}
    if not children:
        return {prefix: value} if prefix else {}  # an empty {} or [] is itself the value
    flat: dict[str, Any] = {}
    for key, child in children.items():
        flat.update(flatten(child, f"{prefix}.{key}" if prefix else key))
    return flat


def parse_number(text: str) -> float | None:
    """``text`` as a number if it is one, with thousands grouping and either decimal mark."""
    text = text.strip()
    grouped = _GROUPED.fullmatch(text)
    if grouped and grouped["sep"] != grouped["dec"]:
        number = text.replace(grouped["sep"], "")
    elif _PLAIN.fullmatch(text):
        number = text
    else:
        return None
    return float(number.replace(",", "."))


def normalize_value(value: Any) -> str | float:
    """The comparison form of one field value: a float if it reads as a number, else folded text."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)  # true / false / null: not the numbers 1 / 0
    if isinstance(value, int | float):
        return float(value)
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = " ".join(unicodedata.normalize("NFKC", text).split()).casefold()
    number = parse_number(text)
    return text if number is None else number


def values_match(a: Any, b: Any) -> bool:
    x, y = normalize_value(a), normalize_value(b)
    if isinstance(x, float) and isinstance(y, float):
        return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9)
    return x == y


def field_counts(prediction: str, reference: str) -> tuple[int, int, int]:
    """(correct, predicted, reference) field counts of one reply."""
    try:
        expected = json.loads(reference)
    except json.JSONDecodeError:
        expected = None
    if not isinstance(expected, dict):
        return int(values_match(prediction, reference)), 1, 1
    expected_fields = flatten(expected)
    got = first_json(prediction)
    if got is None:
        return 0, 0, len(expected_fields)
    got_fields = flatten(got)
    correct = sum(
        1
        for key, value in got_fields.items()
        if key in expected_fields and values_match(value, expected_fields[key])
    )
    return correct, len(got_fields), len(expected_fields)


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


@register_metric(
    "field_precision",
    description="JSON extraction: right fields / fields the reply gave",
    aliases=("json_precision",),
)
def field_precision(prediction: str, sample: Sample) -> float:
    correct, predicted, _ = field_counts(prediction, sample.answer)
    return _ratio(correct, predicted)


@register_metric(
    "field_recall",
    description="JSON extraction: right fields / fields in the reference",
    aliases=("json_recall",),
)
def field_recall(prediction: str, sample: Sample) -> float:
    correct, _, expected = field_counts(prediction, sample.answer)
    return _ratio(correct, expected)


@register_metric(
    "field_f1",
    description="JSON extraction: harmonic mean of field precision and recall",
    aliases=("json_f1", "fields_f1"),
)
def field_f1(prediction: str, sample: Sample) -> float:
    correct, predicted, expected = field_counts(prediction, sample.answer)
    # 2PR/(P+R) simplifies to 2·correct/(predicted+expected); 0 when nothing is right.
    return _ratio(2 * correct, predicted + expected)
