"""Hugging Face parquet/arrow imports, on files written here in the shapes the hub's datasets have.

Column names and types follow the dataset cards of lmms-lab's DocVQA,
textvqa, MMBench, ScienceQA and AI2D, echo840's OCRBench and MMMU: images as
the ``datasets`` Image feature stores them (a struct of ``bytes`` and
``path``), answer lists as list columns.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from vlmbench.datasets import load_dataset, load_image
from vlmbench.datasets.importers import check_import, detect_format, import_dataset
from vlmbench.errors import DatasetError
from vlmbench.metrics.vqa import human_answers

IMAGE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
COLOURS = {"red": (255, 0, 0), "green": (0, 128, 0), "blue": (0, 0, 255)}


def hf_image(colour: str, fmt: str = "PNG") -> dict[str, Any]:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buffer, format=fmt)
    return {"bytes": buffer.getvalue(), "path": f"{colour}.{fmt.lower()}"}


def write_parquet(path: Path, rows: list[dict[str, Any]], types: dict[str, pa.DataType]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    schema = pa.schema([(name, types.get(name, pa.string())) for name in rows[0]])
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


def docvqa_row(qid: str, colour: str, answers: list[str] | None) -> dict[str, Any]:
    return {
        "questionId": qid,
        "question": f"What colour is page {qid}?",
        "question_types": ["figure"],
        "image": hf_image(colour),
        "docId": 7,
        "ucsf_document_id": "abc",
        "ucsf_document_page_no": "1",
        "answers": answers,
        "data_split": "val",
    }


DOCVQA_TYPES = {
    "question_types": pa.list_(pa.string()),
    "image": IMAGE,
    "docId": pa.int64(),
    "answers": pa.list_(pa.string()),
}


@pytest.fixture
def docvqa(tmp_path: Path) -> Path:
    """lmms-lab/DocVQA's layout: DocVQA/{split}-0000N-of-0000M.parquet, two validation shards."""
    root = tmp_path / "DocVQA"
    write_parquet(
        root / "DocVQA" / "validation-00000-of-00002.parquet",
        [docvqa_row("49153", "red", ["red", "Red"]), docvqa_row("49154", "red", ["scarlet"])],
        DOCVQA_TYPES,
    )
    write_parquet(
        root / "DocVQA" / "validation-00001-of-00002.parquet",
        [docvqa_row("57349", "blue", ["blue"])],
        DOCVQA_TYPES,
    )
    write_parquet(
        root / "DocVQA" / "test-00000-of-00001.parquet", [docvqa_row("1", "green", None)], DOCVQA_TYPES
    )
    return root


def test_docvqa_layout_needs_a_split_and_names_the_command(docvqa: Path, tmp_path: Path):
    with pytest.raises(DatasetError, match=r"holds splits test, validation") as caught:
        import_dataset("hf-parquet", docvqa, tmp_path / "out")
    assert "vlmbench datasets import hf-parquet" in str(caught.value) and "--split test" in str(caught.value)
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out*"))


def test_docvqa_validation_across_shards(docvqa: Path, tmp_path: Path):
    assert import_dataset("hf-parquet", docvqa, tmp_path / "val", split="validation") == 3
    dataset = load_dataset(tmp_path / "val")
    first, second, third = dataset.samples
    assert [s.id for s in dataset.samples] == ["49153", "49154", "57349"]
    assert (first.answer, first.metadata["answers"]) == ("red", ["red", "Red"])
    assert human_answers(first) == ["red", "Red"]  # what vqa_score and anls read
    assert first.split == "validation" and first.metadata["question_types"] == ["figure"]
    assert first.images == second.images != third.images  # a page asked about twice is stored once
    assert load_image(dataset.root, third.images[0]).getpixel((0, 0)) == COLOURS["blue"]
    assert "image" not in first.metadata


def test_a_test_split_without_answers_imports_with_empty_answers(docvqa: Path, tmp_path: Path):
    import_dataset("hf-parquet", docvqa, tmp_path / "test", split="test")
    (sample,) = load_dataset(tmp_path / "test").samples
    assert sample.answer == "" and "answers" not in sample.metadata


def test_unknown_split_lists_the_splits(docvqa: Path, tmp_path: Path):
    with pytest.raises(DatasetError, match=r"no split 'train'.*its splits: test, validation"):
        import_dataset("hf-parquet", docvqa, tmp_path / "out", split="train")


def mmbench_row(index: int, answer: str, d: str | None = None, split: str = "dev") -> dict[str, Any]:
    return {
        "index": index,
        "question": "Which colour?",
        "hint": None if index % 2 else "Look at the square.",
        "answer": answer,
        "A": "red",
        "B": "green",
        "C": "blue",
        "D": d,
        "category": "colour",
        "image": hf_image("green"),
        "source": "synthetic",
        "L2-category": "perception",
        "comment": None,
        "split": split,
    }


def test_mmbench_configs_must_be_chosen_then_options_become_choices(tmp_path: Path):
    """lmms-lab/MMBench: one folder per language configuration, options in A..D, D often empty."""
    root = tmp_path / "MMBench"
    types = {"index": pa.int64(), "image": IMAGE}
    write_parquet(
        root / "en" / "dev-00000-of-00001.parquet", [mmbench_row(1, "B"), mmbench_row(2, "D", "grey")], types
    )
    write_parquet(root / "cn" / "dev-00000-of-00001.parquet", [mmbench_row(1, "B")], types)
    with pytest.raises(DatasetError, match=r"several configurations: cn, en") as caught:
        check_import("hf-parquet", root)
    assert f"hf-parquet {root / 'en'} TARGET" in str(caught.value)
    assert import_dataset("hf-parquet", root / "en", tmp_path / "mmb") == 2
    first, second = load_dataset(tmp_path / "mmb").samples
    assert (first.choices, first.answer, second.choices) == (
        ("red", "green", "blue"),
        "B",
        ("red", "green", "blue", "grey"),
    )
    assert (first.doc_class, first.question_type, first.split) == ("colour", "multiple_choice", "dev")
    assert second.question == "Look at the square.\nWhich colour?" and first.question == "Which colour?"
    assert first.metadata["L2-category"] == "perception" and "A" not in first.metadata


def test_answer_letter_past_the_options_names_file_row_and_column(tmp_path: Path):
    source = write_parquet(
        tmp_path / "dev-00000-of-00001.parquet",
        [mmbench_row(1, "B"), mmbench_row(2, "D")],
        {"index": pa.int64(), "image": IMAGE},
    )
    with pytest.raises(
        DatasetError, match=r"dev-00000-of-00001.parquet, row 2, column 'answer': the answer 'D'"
    ):
        import_dataset("hf-parquet", source, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out*"))


def test_choice_lists_with_index_answers(tmp_path: Path):
    """ScienceQA: `choices` and an integer answer; AI2D: `options` and the index as text."""
    scienceqa = write_parquet(
        tmp_path / "sqa" / "test-00000-of-00001.parquet",
        [
            {
                "image": hf_image("red"),
                "question": "Which is hot?",
                "choices": ["ice", "fire"],
                "answer": 1,
                "hint": "",
                "subject": "physics",
            }
        ],
        {"image": IMAGE, "choices": pa.list_(pa.string()), "answer": pa.int64()},
    )
    ai2d = write_parquet(
        tmp_path / "ai2d.parquet",
        [{"question": "Which?", "options": ["a", "b", "c"], "answer": "2", "image": hf_image("blue")}],
        {"options": pa.list_(pa.string()), "image": IMAGE},
    )
    import_dataset("hf-parquet", scienceqa, tmp_path / "sqa-out")
    import_dataset("hf-parquet", ai2d, tmp_path / "ai2d-out")
    (science,) = load_dataset(tmp_path / "sqa-out").samples
    (diagram,) = load_dataset(tmp_path / "ai2d-out").samples
    assert (science.choices, science.answer, science.id, science.split) == (("ice", "fire"), "B", "1", "test")
    assert (diagram.choices, diagram.answer) == (("a", "b", "c"), "C")


def test_several_image_columns_and_an_options_literal(tmp_path: Path):
    """MMMU: image_1..image_7 (most empty), options written as a Python list literal."""
    source = write_parquet(
        tmp_path / "validation-00000-of-00001.parquet",
        [
            {
                "id": "validation_Art_1",
                "question": "<image 1> vs <image 2>?",
                "options": "['left', 'right']",
                "answer": "B",
                "image_1": hf_image("red"),
                "image_2": hf_image("blue", "JPEG"),
                "image_3": None,
            }
        ],
        {"image_1": IMAGE, "image_2": IMAGE, "image_3": IMAGE},
    )
    import_dataset("hf-parquet", source, tmp_path / "mmmu")
    dataset = load_dataset(tmp_path / "mmmu")
    (sample,) = dataset.samples
    assert sample.id == "validation_Art_1" and sample.choices == ("left", "right") and sample.answer == "B"
    assert len(sample.images) == 2 and sample.images[1].endswith(".jpg")
    assert load_image(dataset.root, sample.images[0]).getpixel((0, 0)) == COLOURS["red"]


def test_a_list_of_images_column(tmp_path: Path):
    source = write_parquet(
        tmp_path / "pages.parquet",
        [{"question": "Order the pages", "answer": "1,2", "images": [hf_image("red"), hf_image("green")]}],
        {"images": pa.list_(IMAGE)},
    )
    import_dataset("hf-parquet", source, tmp_path / "out")
    (sample,) = load_dataset(tmp_path / "out").samples
    assert len(sample.images) == 2 and sample.id == "1"


def test_ocrbench_answer_list_and_question_type(tmp_path: Path):
    source = write_parquet(
        tmp_path / "test-00000-of-00001.parquet",
        [
            {
                "dataset": "IIIT5K",
                "question": "what is written in the image?",
                "question_type": "Regular Text Recognition",
                "answer": ["CHINA", "china"],
                "image": hf_image("red", "JPEG"),
            }
        ],
        {"answer": pa.list_(pa.string()), "image": IMAGE},
    )
    import_dataset("hf-parquet", source, tmp_path / "ocr")
    (sample,) = load_dataset(tmp_path / "ocr").samples
    assert (sample.answer, sample.metadata["answers"], sample.question_type) == (
        "CHINA",
        ["CHINA", "china"],
        "Regular Text Recognition",
    )
    assert sample.metadata["dataset"] == "IIIT5K"


def test_other_column_names_need_a_map(tmp_path: Path):
    source = write_parquet(
        tmp_path / "mine.parquet",
        [{"uid": "q1", "prompt": "Colour?", "label": "red", "picture": hf_image("red")["bytes"]}],
        {"picture": pa.binary()},
    )
    with pytest.raises(
        DatasetError,
        match=r"no question column \(columns: uid, prompt, label, picture\).*"
        r"--map question=COLUMN",
    ):
        import_dataset("hf-parquet", source, tmp_path / "out")
    with pytest.raises(DatasetError, match=r"--map answer=labels: no such column"):
        import_dataset("hf-parquet", source, tmp_path / "out", columns=["question=prompt", "answer=labels"])
    import_dataset(
        "hf-parquet", source, tmp_path / "out", columns=["question=prompt", "answer=label", "id=uid"]
    )
    (sample,) = load_dataset(tmp_path / "out").samples
    assert (sample.id, sample.question, sample.answer, len(sample.images)) == ("q1", "Colour?", "red", 1)


def test_split_picked_from_a_split_column(tmp_path: Path):
    source = write_parquet(
        tmp_path / "mmbench.parquet",
        [mmbench_row(1, "A"), mmbench_row(2, "B", split="test"), mmbench_row(3, "C")],
        {"index": pa.int64(), "image": IMAGE},
    )
    import_dataset("hf-parquet", source, tmp_path / "all")
    assert len(load_dataset(tmp_path / "all").samples) == 3
    import_dataset("hf-parquet", source, tmp_path / "dev", split="dev")
    assert [s.id for s in load_dataset(tmp_path / "dev").samples] == ["1", "3"]


def test_duplicate_ids_are_refused_with_both_rows(tmp_path: Path):
    source = write_parquet(
        tmp_path / "dup.parquet", [docvqa_row("5", "red", ["a"]), docvqa_row("5", "red", ["b"])], DOCVQA_TYPES
    )
    with pytest.raises(
        DatasetError, match=r"dup.parquet, row 2: duplicate id '5', first in .*dup.parquet, row 1"
    ):
        import_dataset("hf-parquet", source, tmp_path / "out")


def test_save_to_disk_arrow_layout(tmp_path: Path):
    """datasets' DatasetDict.save_to_disk: {split}/data-00000-of-00001.arrow, arrow IPC streams."""
    root = tmp_path / "saved"
    for split, colour in (("train", "red"), ("test", "blue")):
        (root / split).mkdir(parents=True)
        table = pa.Table.from_pylist(
            [{"question": "Colour?", "answer": colour, "image": hf_image(colour)}],
            schema=pa.schema([("question", pa.string()), ("answer", pa.string()), ("image", IMAGE)]),
        )
        with (
            pa.OSFile(str(root / split / "data-00000-of-00001.arrow"), "wb") as sink,
            pa.ipc.new_stream(sink, table.schema) as writer,
        ):
            writer.write_table(table)
        (root / split / "state.json").write_text(json.dumps({"_data_files": []}))
    assert detect_format(root) == "hf-parquet"
    import_dataset("hf-parquet", root, tmp_path / "out", split="test")
    (sample,) = load_dataset(tmp_path / "out").samples
    assert (sample.answer, sample.split) == ("blue", "test")
