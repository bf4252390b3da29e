"""Kendall tau between a reference order of items (pages) and the model's.

Both the reference and the reply may be a JSON list (``[3, 1, 2]``) or
ids separated by commas, semicolons or new lines (``p3, p1, p2``); ids
compare after trimming, quotes dropped and casefolding, so ``3`` and
``"3"`` are one item. The reply's first mention of an item sets its place;
items the reference does not know are ignored.

Every pair of reference items counts once. A pair the reply puts in the
reference's order is concordant, the other way discordant, and a pair
with an item the reply left out is discordant too: leaving pages out must
not score better than placing them. So tau = (C - D) / (n(n-1)/2) lies in
[-1, 1], higher is better; with no omissions and no ties (orders have
none) it equals Kendall's tau-b.
"""

from __future__ import annotations

import json
import re
from itertools import combinations
from typing import Any

from vlmbench.datasets.schema import Sample
from vlmbench.metrics.fields import first_json
from vlmbench.metrics.registry import MetricError, register_metric

_SEPARATORS = re.compile(r"[,;\n]+")
_DECORATION = "\"'`[]() \t"


def _item(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return " ".join(text.strip(_DECORATION).split()).casefold()


def parse_order(text: str) -> list[str]:
    """The items of an order in the order given, each once: from a JSON list or separated ids."""
    listed = first_json(text, "[")
    if listed is not None:
        items = [_item(v) for v in listed]
    else:
        parts = _SEPARATORS.split(text.strip())
        if len(parts) == 1:  # "3 1 2": no separators, so spaces separate
            parts = parts[0].split()
        items = [_item(p) for p in parts]
    return list(dict.fromkeys(i for i in items if i))


def kendall_tau_orders(predicted: list[str], reference: list[str]) -> float:
    """Tau over all reference pairs; a pair with an item missing from ``predicted`` is discordant."""
    place = {item: i for i, item in enumerate(dict.fromkeys(predicted))}
    if len(reference) < 2:
        # No pairs to order: right if the one item is there at all.
        return 1.0 if all(item in place for item in reference) else -1.0
    concordant = sum(
        1 for a, b in combinations(reference, 2) if a in place and b in place and place[a] < place[b]
    )
    pairs = len(reference) * (len(reference) - 1) // 2
    return (2 * concordant - pairs) / pairs  # (C - D) / pairs with D = pairs - C


@register_metric(
    "kendall_tau",
    description="Kendall tau of the predicted vs reference order, -1..1; missing items count as discordant",
    aliases=("kendall", "page_order_tau"),
)
def kendall_tau(prediction: str, sample: Sample) -> float:
    reference = parse_order(sample.answer)
    if not reference:
        raise MetricError(
            f"sample {sample.id!r} has no order to compare with: its answer is {sample.answer!r}",
            hint="kendall_tau needs answers that list items in order, e.g. [3, 1, 2] or p3, p1, p2",
        )
    return kendall_tau_orders(parse_order(prediction), reference)
