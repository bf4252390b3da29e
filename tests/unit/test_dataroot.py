"""Bare names in a run CSV found in VLMHyperBench's data folder layout (vlmbench.dataroot)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.vlmhyperbench_files import write_data_root, write_dataset
from vlmbench.dataroot import data_root
from vlmbench.datasets import resolve_dataset
from vlmbench.errors import DatasetError


def test_a_dataset_name_is_found_under_its_task_folder(tmp_path: Path) -> None:
    root = write_data_root(tmp_path / "data_dirs")
    expected = (root / "Datasets" / "VQA" / "demo_mini").resolve()
    assert resolve_dataset("demo_mini", tmp_path, data_root=root, task="VQA") == expected
    # Their first run CSVs had no task column: any one task folder holds it.
    assert resolve_dataset("demo_mini", tmp_path, data_root=root) == expected


def test_a_folder_beside_the_run_csv_still_wins_and_bundled_names_still_work(tmp_path: Path) -> None:
    root = write_data_root(tmp_path / "data_dirs")
    mine = write_dataset(tmp_path / "demo_mini")
    assert resolve_dataset("demo_mini", tmp_path, data_root=root, task="VQA") == mine.resolve()
    assert resolve_dataset("easy-vqa", tmp_path, make=False, data_root=root).name == "easy-vqa"


def test_an_unknown_name_says_where_it_looked_and_what_is_close(tmp_path: Path) -> None:
    root = write_data_root(tmp_path / "data_dirs")
    with pytest.raises(DatasetError) as caught:
        resolve_dataset("demo_mni", tmp_path, data_root=root, task="VQA")
    text = str(caught.value)
    assert "'demo_mni' is neither a dataset folder nor a bundled dataset nor under the data root's " \
           f"Datasets/VQA/ ({root})" in text
    assert "did you mean demo_mini?" in text


def test_the_root_comes_from_the_option_else_the_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("VLMBENCH_DATA_ROOT", raising=False)
    assert data_root(None) is None
    monkeypatch.setenv("VLMBENCH_DATA_ROOT", str(tmp_path / "env"))
    assert data_root(None) == tmp_path / "env"
    monkeypatch.chdir(tmp_path)
    assert data_root(Path("given")) == tmp_path / "given"
