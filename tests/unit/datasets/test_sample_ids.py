"""Sample ids of VLMHyperBench's one-row-per-question annotation.csv (data_index repeats)."""

from __future__ import annotations

from pathlib import Path

from tests.vlmhyperbench_files import DEMO_ROWS, write_dataset
from vlmbench.datasets import load_dataset


def ids_of(folder: Path) -> list[str]:
    return [s.id for s in load_dataset(folder).samples]


def test_each_question_of_an_image_is_a_sample_sharing_its_image(tmp_path: Path) -> None:
    dataset = load_dataset(write_dataset(tmp_path / "demo_mini"))
    assert [s.id for s in dataset.samples] == [
        "1:Серия и номер паспорта", "1:Фамилия", "1:Имя", "2:Фамилия", "2:Имя", "3:Номер счет-фактуры",
        "3:Продавец"]
    first = dataset.samples[0]
    assert first.images == ("images/1.jpg",) == dataset.samples[2].images
    assert first.question == "Напиши Серия и номер паспорта"
    assert (first.answer, first.doc_class) == ("4 505 679 944", "passport")
    # by_data_index groups an image's questions; the bounding box is kept parsed.
    assert first.metadata == {"data_index": "1", "answer_bbox": [1420, 280, 1470, 750]}


def test_ids_survive_reordered_rows_and_reruns(tmp_path: Path) -> None:
    forward = ids_of(write_dataset(tmp_path / "a"))
    backward = ids_of(write_dataset(tmp_path / "b", DEMO_ROWS[::-1]))
    assert backward == forward[::-1]
    assert ids_of(tmp_path / "a") == forward


def test_repeated_or_blank_question_types_fall_back_to_the_question_then_a_count(tmp_path: Path) -> None:
    rows = [
        ("5", "test", "images/5.png", "What is the total?", "10", "receipt", "field", "[]"),
        ("5", "test", "images/5.png", "What is the date?", "1 May", "receipt", "field", "[]"),
        ("5", "test", "images/5.png", "What is the date?", "1 May", "receipt", "field", "[]"),
        ("6", "test", "images/6.png", "Read the page", "text", "letter", "", "[]"),
    ]
    assert ids_of(write_dataset(tmp_path / "d", rows)) == [
        "5:What is the total?", "5:What is the date?", "5:What is the date?#2", "6:Read the page"]


def test_unique_data_index_stays_the_id(tmp_path: Path) -> None:
    rows = [DEMO_ROWS[0], DEMO_ROWS[3], DEMO_ROWS[5]]
    dataset = load_dataset(write_dataset(tmp_path / "one-per-image", rows))
    assert [s.id for s in dataset.samples] == ["1", "2", "3"]
    assert "data_index" not in dataset.samples[0].metadata
