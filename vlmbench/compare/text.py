"""The comparison's figures as text: one spelling for the terminal tables and the report's section (compare.*.j2)."""

from __future__ import annotations

import math

from vlmbench.compare.pairs import Comparison, MetricComparison, PairResult

TEST_NAMES = {"mcnemar": "McNemar exact", "sign-flip": "sign-flip permutation", "none": "no test"}


def number(value: float, signed: bool = False) -> str:
    if not math.isfinite(value):
        return "–"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def interval(pair: PairResult) -> str:
    if not (math.isfinite(pair.ci_low) and math.isfinite(pair.ci_high)):
        return "–"
    return f"[{pair.ci_low:+.3f}, {pair.ci_high:+.3f}]"


def p_text(p: float) -> str:
    if not math.isfinite(p):
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def verdict(pair: PairResult) -> str:
    return "significant" if pair.significant else "not significant"


def heading(table: MetricComparison) -> str:
    where = table.dataset + (f" / {table.task}" if table.task else "")
    arrow = "↑" if table.higher_is_better else "↓"
    return f"{where}: {table.metric} {arrow} ({TEST_NAMES[table.test]}, {table.n_samples:,} samples)"


def explanation(comparison: Comparison) -> str:
    level = f"{comparison.ci_level:.0%}"
    return (f"Each pair on the samples both models answered: the mean difference (first − second) with its "
            f"{level} paired bootstrap CI, and a p-value from McNemar's exact test (0/1 metrics) or a sign-flip "
            f"permutation test, Holm-corrected over the pairs of a table. Models sharing a rank are not "
            f"significantly different (at {comparison.alpha:.0%}) from that rank's best.")
