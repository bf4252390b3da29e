"""results.csv: exact round trip and readable errors."""

from __future__ import annotations

import math

import pytest

from vlmbench.errors import ReportError
from vlmbench.metrics import ResultRow
from vlmbench.rundir.results_csv import read_results_csv, write_results_csv


def rows() -> list[ResultRow]:
    base = dict(job_id="j1", model_name="Qwen2-VL-2B", framework="transformers", dataset="docs")
    return [
        ResultRow(**base, task="ocr", metric="cer", aggregator="general", group="all", value=0.1 + 0.2,
                  ci_low=0.25, ci_high=1 / 3, n=40, n_errors=2, higher_is_better=False),
        ResultRow(**base, metric="anls", aggregator="by_doc_type", group="NA", value=1.0, n=1),
        ResultRow(**base, metric="anls", aggregator="by_id", group="None", value=0.0, n=1),
        ResultRow(**base, metric="anls", aggregator="by_doc_type", group='a, "quoted"; group',
                  value=math.pi, n=3),
    ]


def test_round_trip_is_exact(tmp_path):
    path = tmp_path / "results.csv"
    write_results_csv(path, rows())
    back = read_results_csv(path)
    assert back == rows()
    assert back[0].value == 0.1 + 0.2  # every digit of the float survives
    assert back[1].task is None and back[1].ci_low is None
    assert back[1].group == "NA" and back[2].group == "None"  # not turned into missing values
    assert back[0].higher_is_better is False


def test_header_and_no_leftover_temp_files(tmp_path):
    path = tmp_path / "run" / "results.csv"
    write_results_csv(path, [])
    assert path.read_text().strip() == ",".join(ResultRow.model_fields)
    assert read_results_csv(path) == []
    assert [p.name for p in path.parent.iterdir()] == ["results.csv"]


def test_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(ReportError, match="cannot read results"):
        read_results_csv(tmp_path / "nope.csv")


def test_missing_column_is_named(tmp_path):
    path = tmp_path / "results.csv"
    header = "job_id,model_name,framework,dataset,metric,aggregator,group,n"
    path.write_text(f"{header}\nj,m,f,d,cer,general,all,3\n")
    with pytest.raises(ReportError) as caught:
        read_results_csv(path)
    assert "missing column(s) value" in str(caught.value)
    assert "results.csv" in str(caught.value)


def test_bad_value_names_row_and_column(tmp_path):
    path = tmp_path / "results.csv"
    write_results_csv(path, rows())
    text = path.read_text().splitlines()
    text[2] = text[2].replace(",1.0,", ",lots,")
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(ReportError) as caught:
        read_results_csv(path)
    assert "row 2" in str(caught.value) and "'value'" in str(caught.value)
