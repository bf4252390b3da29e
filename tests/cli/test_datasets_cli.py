"""`vlmbench datasets list|make`, driven through typer's CliRunner on the sub-app."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vlmbench.cli.datasets import app
from vlmbench.datasets import BUNDLED, load_dataset
from vlmbench.errors import DatasetError

runner = CliRunner()


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "data"
    monkeypatch.setenv("VLMBENCH_DATA_DIR", str(home))
    monkeypatch.setenv("COLUMNS", "250")  # rich would otherwise wrap paths inside table cells
    for name in ("synthetic-docs-ru", "synthetic-docs-en"):
        small = dataclasses.replace(BUNDLED[name], options={**BUNDLED[name].options, "docs_per_class": 1})
        monkeypatch.setitem(BUNDLED, name, small)
    return home


def test_no_arguments_shows_help() -> None:
    result = runner.invoke(app, [])
    assert "list" in result.output and "make" in result.output


def test_list_before_and_after_make(data_dir: Path) -> None:
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0, result.output
    for name in BUNDLED:
        row = next(line for line in result.output.splitlines() if f" {name} " in line)
        assert "│ no " in row and row.rstrip(" │").endswith("-")

    result = runner.invoke(app, ["make", "synthetic-docs-en"])
    assert result.exit_code == 0, result.output
    count = len(load_dataset(data_dir / "synthetic-docs-en").samples)
    assert f"synthetic-docs-en: {count} samples in {data_dir / 'synthetic-docs-en'}" in result.output

    result = runner.invoke(app, ["list"])
    row = next(line for line in result.output.splitlines() if "synthetic-docs-en" in line)
    assert (
        "│ yes " in row
        and str(data_dir / "synthetic-docs-en") in row
        and row.rstrip(" │").endswith(f" {count}")
    )


def test_make_skips_made_sets_unless_forced(data_dir: Path) -> None:
    assert runner.invoke(app, ["make", "synthetic-docs-ru"]).exit_code == 0
    result = runner.invoke(app, ["make", "synthetic-docs-ru"])
    assert result.exit_code == 0 and "already made" in result.output
    result = runner.invoke(app, ["make", "synthetic-docs-ru", "--force"])
    assert result.exit_code == 0 and "samples in" in result.output


def test_make_all(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(BUNDLED, "easy-vqa-train")  # 4,000 images: too slow for a unit test
    monkeypatch.delitem(BUNDLED, "easy-vqa")
    result = runner.invoke(app, ["make", "--all"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in data_dir.iterdir()) == ["synthetic-docs-en", "synthetic-docs-ru"]


def test_make_without_names_is_a_usage_error() -> None:
    result = runner.invoke(app, ["make"])
    assert result.exit_code == 2
    assert "--all" in result.output


def test_make_unknown_name_raises_for_the_main_app_to_print(data_dir: Path) -> None:
    result = runner.invoke(app, ["make", "synthetic-docs-en", "synthtic-docs-en"])
    assert isinstance(result.exception, DatasetError)
    assert "did you mean synthetic-docs-en" in str(result.exception)
    assert not data_dir.exists()  # nothing made when one name is wrong
