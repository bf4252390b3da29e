"""ResultRow through metrics.json: a failed sample's by_id row (value NaN) must read back."""

from __future__ import annotations

import math

from vlmbench.metrics import ResultRow


def test_a_nan_value_written_as_json_null_reads_back_as_nan():
    row = ResultRow(job_id="j", model_name="m", framework="f", dataset="d", metric="cer", aggregator="by_id",
                    group="s3", value=float("nan"), n=0, n_errors=1, n_total=1, coverage=0.0)
    text = row.model_dump_json()
    assert '"value":null' in text  # JSON has no NaN; other readers of metrics.json see null
    assert math.isnan(ResultRow.model_validate_json(text).value)
