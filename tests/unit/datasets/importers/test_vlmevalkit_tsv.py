"""VLMEvalKit TSVs written as VLMEvalKit writes them (pandas), read as its ImageBaseDataset reads them."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from vlmbench.datasets import load_dataset, load_image
from vlmbench.datasets.importers import import_dataset
from vlmbench.errors import DatasetError


def b64(colour: str) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (80, 80), colour).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def write_tsv(path: Path, rows: list[dict]) -> Path:
    pd.DataFrame(rows).to_csv(path, sep="\t", index=False)
    return path


def test_an_image_cell_naming_a_later_row_shares_that_rows_image(tmp_path: Path):
    """VLMEvalKit maps every index to its cell first, so a reference may point forward."""
    tsv = write_tsv(
        tmp_path / "bench.tsv",
        [
            {"index": 1, "image": "2", "question": "Shape?", "answer": "square", "category": "shapes"},
            {"index": 2, "image": b64("red"), "question": "Colour?", "answer": "red", "category": "colours"},
        ],
    )
    assert import_dataset("vlmevalkit-tsv", tsv, tmp_path / "out") == 2
    dataset = load_dataset(tmp_path / "out")
    first, second = dataset.samples
    assert first.images == second.images and len(first.images) == 1
    assert (first.doc_class, second.doc_class) == ("shapes", "colours")
    assert load_image(dataset.root, first.images[0]).getpixel((0, 0)) == (255, 0, 0)


def test_a_list_literal_cell_holds_several_images(tmp_path: Path):
    tsv = write_tsv(
        tmp_path / "multi.tsv",
        [
            {"index": 7, "image": str([b64("red"), b64("blue")]), "question": "Same colour?", "answer": "no"},
            {"index": 8, "image": "7", "question": "How many?", "answer": "2"},
        ],
    )
    import_dataset("vlmevalkit-tsv", tsv, tmp_path / "out")
    dataset = load_dataset(tmp_path / "out")
    first, second = dataset.samples
    assert len(first.images) == 2 and second.images == first.images
    assert load_image(dataset.root, first.images[1]).getpixel((0, 0)) == (0, 0, 255)


def test_a_reference_to_no_row_with_an_image_names_row_and_column(tmp_path: Path):
    tsv = write_tsv(
        tmp_path / "bad.tsv",
        [
            {"index": 1, "image": b64("red"), "question": "q", "answer": "a"},
            {"index": 2, "image": "9", "question": "q", "answer": "a"},
        ],
    )
    with pytest.raises(
        DatasetError, match=r"bad.tsv, row 2, column 'image': '9' is not the index of a row holding"
    ):
        import_dataset("vlmevalkit-tsv", tsv, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out*"))


def test_split_keeps_the_rows_of_one_split(tmp_path: Path):
    tsv = write_tsv(
        tmp_path / "mmb.tsv",
        [
            {
                "index": 1,
                "image": b64("red"),
                "question": "q",
                "answer": "A",
                "A": "x",
                "B": "y",
                "split": "dev",
            },
            {"index": 2, "image": "1", "question": "q", "answer": "B", "A": "x", "B": "y", "split": "test"},
        ],
    )
    import_dataset("vlmevalkit-tsv", tsv, tmp_path / "dev", split="dev")
    assert [s.id for s in load_dataset(tmp_path / "dev").samples] == ["1"]
