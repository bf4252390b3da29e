"""`vlmbench list-models`: readable at 80 columns, filters in any case, one line when nothing matches, and
a "runs here" answer in the table and in --json."""

from __future__ import annotations

import importlib.util
import json

import pytest
from typer.testing import CliRunner

from vlmbench.catalog import load_catalog
from vlmbench.cli.app import app
from vlmbench.runs_here import gpu_memory_gb

runner = CliRunner()
CATALOG = list(load_catalog())


@pytest.fixture(autouse=True)
def no_engine(monkeypatch):
    """No Docker Engine answers here (a socket path that does not exist): image presence is unknown."""
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")


def invoke(*args: str, columns: int = 80):
    return runner.invoke(app, ["list-models", *args], env={"COLUMNS": str(columns)})


def listed(*args: str) -> list[dict]:
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_default_table_fits_80_columns_and_names_every_model_whole():
    result = invoke()
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    header = next(line for line in lines if "model" in line and "framework" in line)
    assert header.split() == ["model", "framework", "GB", "checked", "runs", "here"]
    cells = {line.split()[0] for line in lines if line.strip()}
    assert {row.model_name for row in CATALOG} <= cells  # no name folded over two lines


def test_wide_adds_the_other_columns():
    result = invoke("--wide", columns=250)
    header = next(line for line in result.output.splitlines() if "model" in line and "framework" in line)
    assert header.split() == ["model", "family", "framework", "class", "weights", "tasks", "GB", "image",
                              "checked", "runs", "here"]


@pytest.mark.parametrize(("option", "spellings", "of_row"), [
    ("--task", ["vqa", "VQA", "Vqa"], lambda row: "vqa" in row.tasks),
    ("--framework", ["hf", "HF", "Hugging Face", "transformers"], lambda row: row.framework == "hf"),
    ("--framework", ["vllm", "VLLM", "vLLM"], lambda row: row.framework == "vllm"),
    ("--family", ["qwen2.5-vl", "QWEN2.5-VL"], lambda row: row.model_family == "Qwen2.5-VL"),
])
def test_filters_match_in_any_case(option, spellings, of_row):
    expected = {(row.model_name, row.framework) for row in CATALOG if of_row(row)}
    assert expected
    for spelling in spellings:
        assert {(row["model_name"], row["framework"]) for row in listed(option, spelling)} == expected, spelling


def test_filters_combine():
    rows = listed("--task", "OCR", "--framework", "Tesseract")
    assert rows and all(row["framework"] == "tesseract" and "ocr" in row["tasks"] for row in rows)


@pytest.mark.parametrize(("args", "option", "valid"), [
    (("--task", "captioning"), "--task", sorted({t for row in CATALOG for t in row.tasks}, key=str.casefold)),
    (("--framework", "sglang"), "--framework", sorted({row.framework for row in CATALOG}, key=str.casefold)),
    (("--framework", "tesseract", "--task", "vqa"), "--task",
     sorted({t for row in CATALOG if row.framework == "tesseract" for t in row.tasks}, key=str.casefold)),
])
def test_nothing_matched_is_one_line_with_the_valid_values_and_exit_2(args, option, valid):
    for extra in ((), ("--json",)):
        result = invoke(*args, *extra)
        assert result.exit_code == 2
        [line] = result.output.splitlines()
        assert line.startswith(f"error: {option} ") and "matches no model" in line
        assert line.endswith(f"(valid: {', '.join(valid)})"), line


def test_json_says_whether_each_row_runs_here():
    rows = listed()
    assert len(rows) == len(CATALOG)
    gpu = gpu_memory_gb()
    torch_here = all(importlib.util.find_spec(name) for name in ("torch", "transformers"))
    for row in rows:
        runs = row["runs_here"]
        assert set(runs) == {"ok", "executors", "local", "image", "gpu_fits", "why_not"}
        assert runs["image"] is None  # no engine answered
        # Without nvidia-smi only rows that need no GPU memory fit (its reading: tests/unit/test_runs_here.py).
        assert runs["gpu_fits"] == (not row["gpu_memory_gb"] or row["gpu_memory_gb"] <= gpu)
        if row["framework"] == "hf":
            assert runs["local"] == torch_here
        if row["framework"] == "tesseract":
            assert runs["local"] == (importlib.util.find_spec("tesserocr") is not None)
        assert runs["ok"] == (runs["local"] and runs["gpu_fits"])
    baseline = next(row for row in rows if row["model_name"] == "majority-easy-vqa")
    assert baseline["runs_here"] == {"ok": True, "executors": ["local"], "local": True, "image": None,
                                     "gpu_fits": True, "why_not": ""}


def test_the_table_shows_runs_here_per_row():
    result = invoke("--framework", "baseline")
    row = next(line for line in result.output.splitlines() if line.strip().startswith("majority-easy-vqa"))
    assert row.split()[-1] == "local"
