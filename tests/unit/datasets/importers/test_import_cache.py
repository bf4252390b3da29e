"""A run CSV's dataset naming a peer file: imported into the data folder on first use, keyed by content."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from tests.unit.datasets.importers.test_hf_parquet import IMAGE, hf_image, write_parquet
from vlmbench.datasets import load_dataset, resolve_dataset
from vlmbench.errors import DatasetError


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VLMBENCH_DATA_DIR", str(tmp_path / "home"))
    return tmp_path / "home"


def chartqa(path: Path, answer: str = "14") -> Path:
    """lmms-lab/ChartQA's columns: type, question, answer, image."""
    row = {"type": "human_test", "question": "How many bars?", "answer": answer, "image": hf_image("red")}
    return write_parquet(path, [row], {"image": IMAGE})


def test_a_parquet_file_is_imported_once_and_again_when_it_changes(tmp_path: Path, home: Path):
    source = chartqa(tmp_path / "runs" / "chartqa.parquet")
    folder = resolve_dataset("chartqa.parquet", base_dir=tmp_path / "runs")
    assert folder.parent == home / "imported" and folder.name.startswith("chartqa-")
    (sample,) = load_dataset(folder).samples
    assert (sample.answer, sample.metadata["type"]) == ("14", "human_test")
    written = (folder / "annotations.jsonl").stat().st_mtime_ns
    assert (
        resolve_dataset(str(source)) == folder
        and (folder / "annotations.jsonl").stat().st_mtime_ns == written
    )

    chartqa(source, answer="15")
    changed = resolve_dataset(str(source))
    assert changed != folder and load_dataset(changed).samples[0].answer == "15"


def test_checking_a_run_imports_nothing(tmp_path: Path, home: Path):
    source = chartqa(tmp_path / "chartqa.parquet")
    future = resolve_dataset(str(source), make=False)
    assert not future.exists() and not home.exists()
    assert resolve_dataset(str(source)) == future and future.is_dir()


def test_a_choice_to_make_names_the_import_command(tmp_path: Path, home: Path):
    root = tmp_path / "ChartQA"
    chartqa(root / "data" / "test-00000-of-00001.parquet")
    chartqa(root / "data" / "val-00000-of-00001.parquet")
    for make in (False, True):
        with pytest.raises(
            DatasetError, match=r"importing .*ChartQA on first use: .*holds splits test, val"
        ) as caught:
            resolve_dataset(str(root), make=make)
        assert "vlmbench datasets import hf-parquet" in str(caught.value) and "--split test" in str(
            caught.value
        )
        assert "then name TARGET in the dataset column" in str(caught.value)
    assert not home.exists()


def test_a_dataset_folder_is_still_a_dataset_folder(tmp_path: Path, home: Path, text_dataset: Path):
    assert resolve_dataset(str(text_dataset)) == text_dataset.resolve()
    assert not home.exists()


def test_an_imagefolder_folder_is_imported(tmp_path: Path, home: Path):
    root = tmp_path / "shots"
    root.mkdir()
    (root / "a.png").write_bytes(hf_image("blue")["bytes"])
    (root / "metadata.csv").write_text("file_name,question,answer\na.png,Colour?,blue\n")
    (sample,) = load_dataset(resolve_dataset(str(root))).samples
    assert sample.answer == "blue"


def test_a_bad_row_in_the_file_is_named(tmp_path: Path, home: Path):
    source = write_parquet(
        tmp_path / "bad.parquet",
        [{"question": "q", "answer": "C", "options": ["x", "y"], "image": hf_image("red")}],
        {"options": pa.list_(pa.string()), "image": IMAGE},
    )
    with pytest.raises(
        DatasetError, match=r"bad.parquet, row 1, column 'answer': the answer 'C' names no option"
    ):
        resolve_dataset(str(source))
    assert not list((home / "imported").iterdir())
