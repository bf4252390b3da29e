"""easy-VQA turned into a dataset folder."""

from __future__ import annotations

import builtins
from collections import Counter
from pathlib import Path

import easy_vqa
import pytest

from vlmbench.datasets import load_dataset
from vlmbench.datasets.easyvqa import question_type, write_easy_vqa
from vlmbench.errors import DatasetError


def test_test_split_counts_types_and_images(tmp_path: Path) -> None:
    questions, answers, image_ids = easy_vqa.get_test_questions()
    count = write_easy_vqa(tmp_path, "test")
    assert count == len(questions)
    dataset = load_dataset(tmp_path)
    assert len(dataset.samples) == count
    images = sorted((tmp_path / "images").iterdir())
    assert len(images) == len(set(image_ids))
    assert all(p.stat().st_size > 0 for p in images)

    first = dataset.samples[0]
    assert (first.question, first.answer) == (questions[0], answers[0])
    assert first.images == (f"images/{image_ids[0]}.png",)
    assert first.doc_class == "easy-vqa" and first.split == "test"
    assert first.metadata["image_id"] == str(image_ids[0])

    types = Counter(s.question_type for s in dataset.samples)
    assert set(types) == {"shape", "color", "yes_no"}
    for sample in dataset.samples[:500]:
        expected = (
            "yes_no"
            if sample.answer in ("yes", "no")
            else "shape"
            if sample.answer in ("circle", "rectangle", "triangle")
            else "color"
        )
        assert sample.question_type == expected
    assert (tmp_path / "answers.txt").read_text().split() == easy_vqa.get_answers()


def test_question_type_of_each_answer() -> None:
    assert [question_type(a) for a in ("circle", "teal", "no", "yes", "triangle", "gray")] == [
        "shape",
        "color",
        "yes_no",
        "yes_no",
        "shape",
        "color",
    ]


def test_missing_package_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_easy_vqa(name: str, *args, **kwargs):
        if name == "easy_vqa":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_easy_vqa)
    with pytest.raises(DatasetError) as error:
        write_easy_vqa(tmp_path)
    assert error.value.problems[0].hint == "pip install easy-vqa"
