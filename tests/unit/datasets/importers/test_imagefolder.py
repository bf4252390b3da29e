"""Hugging Face imagefolder layouts: split folders with their own metadata, metadata.csv, several images."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from vlmbench.datasets import load_dataset, load_image
from vlmbench.datasets.importers import detect_format, import_dataset
from vlmbench.errors import DatasetError


def image(path: Path, colour: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), colour).save(path)


@pytest.fixture
def split_folders(tmp_path: Path) -> Path:
    root = tmp_path / "folder"
    for split, colour in (("train", "red"), ("test", "blue")):
        image(root / split / f"{colour}.png", colour)
        (root / split / "metadata.jsonl").write_text(
            json.dumps(
                {
                    "file_name": f"{colour}.png",
                    "question": "Colour?",
                    "answers": [colour, "dark " + colour],
                    "category": "swatch",
                }
            )
            + "\n"
        )
    return root


def test_split_folders_need_a_split(split_folders: Path, tmp_path: Path):
    assert detect_format(split_folders) == "hf-imagefolder"
    with pytest.raises(
        DatasetError, match=r"holds splits test, train.*hf-imagefolder .* TARGET --split test"
    ):
        import_dataset("hf-imagefolder", split_folders, tmp_path / "out")
    import_dataset("hf-imagefolder", split_folders, tmp_path / "out", split="test")
    dataset = load_dataset(tmp_path / "out")
    (sample,) = dataset.samples
    assert (sample.answer, sample.metadata["answers"], sample.split, sample.doc_class) == (
        "blue",
        ["blue", "dark blue"],
        "test",
        "swatch",
    )
    assert sample.images == ("images/test/blue.png",)
    assert load_image(dataset.root, sample.images[0]).getpixel((0, 0)) == (0, 0, 255)


def test_metadata_csv_with_several_image_columns_and_options(tmp_path: Path):
    root = tmp_path / "folder"
    image(root / "a.png", "red")
    image(root / "pages" / "b.png", "green")
    (root / "metadata.csv").write_text(
        "file_name,second_file_name,question,options,answer,question_id\n"
        "a.png,pages/b.png,Which is green?,\"['left', 'right']\",right,q7\n",
        encoding="utf-8",
    )
    import_dataset("hf-imagefolder", root, tmp_path / "out")
    (sample,) = load_dataset(tmp_path / "out").samples
    assert sample.images == ("images/a.png", "images/pages/b.png")
    assert (sample.id, sample.choices, sample.answer) == ("q7", ("left", "right"), "B")


def test_a_missing_image_names_the_metadata_row(tmp_path: Path):
    root = tmp_path / "folder"
    image(root / "a.png", "red")
    (root / "metadata.jsonl").write_text(
        json.dumps({"file_name": "a.png", "question": "q", "answer": "a"})
        + "\n"
        + json.dumps({"file_name": "gone.png", "question": "q", "answer": "a"})
        + "\n"
    )
    with pytest.raises(
        DatasetError, match=r"metadata.jsonl, row 2, column 'file_name': image 'gone.png' is missing"
    ):
        import_dataset("hf-imagefolder", root, tmp_path / "out")
    assert not (tmp_path / "out").exists()
