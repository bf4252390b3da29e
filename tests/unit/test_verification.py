"""The verification record: written by the checks, read by list-models."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from vlmbench import verification
from vlmbench.catalog import load_catalog
from vlmbench.cli.app import app
from vlmbench.testing.tiny import NOT_CHECKED
from vlmbench.verification import (
    Check,
    forget_checks,
    load_verification,
    record_check,
    record_unchecked,
    verified_label,
)


def _check(where: str = "cpu", family: str = "Qwen2-VL", **extra) -> Check:
    return Check(framework="hf", model_family=family, where=where, arch="qwen2_vl",
                 image="vlmbench/cpu:0.1.0", versions={"transformers": "5.23.0"}, cases=["one image"], **extra)


def test_a_recorded_check_replaces_the_earlier_one_and_the_file_is_stable(tmp_path):
    path = tmp_path / "verification.json"
    record_check(_check(), path)
    first = path.read_text()
    record_check(_check(), path)
    assert path.read_text() == first, "the same check twice leaves the file as it was"
    record_check(_check(where="gpu", device="NVIDIA H200", figures={"answers_per_s": 12.5}), path)
    record_check(_check().model_copy(update={"versions": {"transformers": "5.24.0"}}), path)
    record = load_verification(path)
    assert [(c.where, c.versions.get("transformers")) for c in record.checks] == [("cpu", "5.24.0"),
                                                                                  ("gpu", "5.23.0")]
    forget_checks("hf", "Qwen2-VL", "cpu", "qwen2_vl", path)
    assert [c.where for c in load_verification(path).checks] == ["gpu"]


def test_unchecked_families_keep_their_reasons(tmp_path):
    path = tmp_path / "verification.json"
    record_unchecked({("vllm", "Molmo"): "remote code", ("hf", "MiniCPM-V"): "remote code too"}, path)
    assert [(u.framework, u.model_family) for u in load_verification(path).unchecked] == [
        ("hf", "MiniCPM-V"), ("vllm", "Molmo")]


def test_the_shipped_record_reads_and_names_every_unchecked_family_with_the_builders_reason():
    """A change to NOT_CHECKED must come with a rerun of the conformance suite that records it."""
    record = load_verification()
    assert {(u.framework, u.model_family): u.reason for u in record.unchecked} == NOT_CHECKED


def test_labels_name_the_places_in_order():
    assert verified_label([_check("gpu"), _check("cpu"), _check("cpu", family="x")]) == "cpu, gpu"
    assert verified_label([]) == ""


@pytest.fixture
def record(tmp_path, monkeypatch):
    path = tmp_path / "verification.json"
    monkeypatch.setattr(verification, "verification_path", lambda: path)
    record_check(_check(), path)
    record_unchecked({("vllm", "Molmo"): "its config class lives in the checkpoint's remote code"}, path)
    return path


def test_list_models_shows_and_filters_what_was_checked(record):
    runner = CliRunner()
    table = runner.invoke(app, ["list-models", "--verified"], env={"COLUMNS": "80"})
    assert table.exit_code == 0, table.output
    qwen2 = [row.model_name for row in load_catalog([]) if (row.framework, row.model_family) == ("hf", "Qwen2-VL")]
    assert f"({len(qwen2)} verified models)" in table.output
    assert all(len(line) <= 80 for line in table.output.splitlines())
    listed = json.loads(runner.invoke(app, ["list-models", "--json", "--family", "Molmo"]).output)
    assert listed and all(row["checks"] == [] for row in listed)
    assert {row["unchecked_reason"] for row in listed} == {"its config class lives in the checkpoint's remote code"}
    verified = json.loads(runner.invoke(app, ["list-models", "--json", "--verified"]).output)
    assert {row["model_name"] for row in verified} == set(qwen2)
    assert all(row["checks"][0]["versions"] == {"transformers": "5.23.0"} for row in verified)
