from pathlib import Path

import pytest

from vlmbench.config import read_run_config
from vlmbench.csvfiles import parse_list
from vlmbench.errors import ConfigError


def write(tmp_path: Path, text: str, name: str = "run.csv", bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def test_comma_separated_with_lists_and_json(tmp_path):
    config = read_run_config(write(tmp_path, (
        'model_name,dataset,metrics,batch_size,params,only_evaluate_metrics\n'
        'tesseract-eng,data/x,"CER|WER",4,"{""lang"": ""eng""}",no\n')))
    (row,) = config.rows
    assert row.row == 1
    assert row.metrics == ["CER", "WER"]
    assert row.batch_size == 4
    assert row.params == {"lang": "eng"}
    assert row.only_evaluate_metrics is False


def test_vlmhyperbench_semicolon_file_with_bom_and_list_literals(tmp_path):
    config = read_run_config(write(tmp_path, (
        "framework;model_name;dataset;metrics;metrics_aggregators;filter_doc_class\n"
        "tesseract;tesseract-rus;passports;['CER', 'WER'];['general', 'by_doc_type'];['passport']\n"
        "\n"
        "tesseract;tesseract-eng;passports;['ANLS'];[];\n"), bom=True))
    assert [r.model_name for r in config.rows] == ["tesseract-rus", "tesseract-eng"]
    assert config.rows[0].metrics == ["CER", "WER"]
    assert config.rows[0].metrics_aggregators == ["general", "by_doc_type"]
    assert config.rows[0].filter_doc_class == ["passport"]
    assert config.rows[1].metrics_aggregators == []
    assert config.rows[1].row == 3  # blank lines keep the numbering a spreadsheet shows


def test_every_problem_is_reported_with_row_and_column(tmp_path):
    path = write(tmp_path, (
        "model_name,dataset,batch_size,params,prompt\n"
        "m1,d,zero,,\n"
        ",d,2,[1],\n"
        "m3,d,1,,Say it\n"))
    with pytest.raises(ConfigError) as caught:
        read_run_config(path)
    lines = caught.value.lines()
    assert any("row 1" in line and "'batch_size'" in line for line in lines)
    assert any("row 2" in line and "'model_name'" in line and "empty" in line for line in lines)
    assert any("row 2" in line and "'params'" in line and "JSON object" in line for line in lines)
    assert any("row 3" in line and "'prompt'" in line and "{question}" in line for line in lines)
    assert all(str(path) in line for line in lines)


def test_unknown_and_missing_columns(tmp_path):
    with pytest.raises(ConfigError) as caught:
        read_run_config(write(tmp_path, "model,datset\nx,y\n"))
    text = str(caught.value)
    assert "unknown column 'model'" in text
    assert "missing required column(s) model_name, dataset" in text


def test_too_many_cells_names_the_row(tmp_path):
    with pytest.raises(ConfigError, match=r"row 2: 3 cells but the header has 2 columns"):
        read_run_config(write(tmp_path, "model_name,dataset\na,b\na,b,c\n"))


def test_missing_file_and_empty_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        read_run_config(tmp_path / "nope.csv")
    with pytest.raises(ConfigError, match="no jobs"):
        read_run_config(write(tmp_path, "model_name,dataset\n"))


@pytest.mark.parametrize(("cell", "expected"), [
    ("['CER', 'WER']", ["CER", "WER"]), ("CER,WER", ["CER", "WER"]), ("a|b", ["a", "b"]), ("", []),
    ('["x"]', ["x"]),
])
def test_parse_list(cell, expected):
    assert parse_list(cell) == expected


def test_parse_list_rejects_broken_literal():
    with pytest.raises(ValueError, match="not a list literal"):
        parse_list("['CER'")


def test_secrets_are_refused_in_params(tmp_path):
    path = write(tmp_path, 'model_name,dataset,params\nm,d,"{""api_key"": ""sk-123""}"\n')
    with pytest.raises(ConfigError) as caught:
        read_run_config(path)
    assert "'api_key' would be written to job.json" in str(caught.value)
    assert "sk-123" not in str(caught.value)
