"""load_dataset keeps a folder's parse per process, and reads it again the moment the folder changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from vlmbench.datasets import load_dataset
from vlmbench.datasets import loader as loader_module

HEADER = "data_index;split;image_path;question;answer;doc_class;question_type"


def write_folder(root: Path, answers: list[str]) -> Path:
    (root / "img").mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), "red").save(root / "img" / "a.png")
    lines = [HEADER] + [f"s{i};test;img/a.png;Q{i}?;{a};c{i % 2};field" for i, a in enumerate(answers)]
    (root / "annotation.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def test_repeated_loads_reuse_the_parse(tmp_path: Path, parses: list[Path]) -> None:
    root = write_folder(tmp_path / "d", ["a", "b", "c"])
    first = load_dataset(root)
    again = load_dataset(root / "annotation.csv", name="other-name")  # the same folder, named otherwise
    assert len(parses) == 1
    assert again.samples == first.samples and again.fingerprint == first.fingerprint
    assert (first.name, again.name) == ("d", "other-name")
    first.samples.clear()  # one caller's edits never reach another's samples
    assert len(load_dataset(root).samples) == 3


def test_a_changed_annotation_is_read_again_at_once(tmp_path: Path, parses: list[Path]) -> None:
    root = write_folder(tmp_path / "d", ["a", "b", "c"])
    before = load_dataset(root)
    # Same size, written within the same clock tick: an mtime key would miss this.
    write_folder(root, ["a", "X", "c"])
    after = load_dataset(root)
    assert len(parses) == 2
    assert [s.answer for s in after.samples] == ["a", "X", "c"]
    assert after.fingerprint != before.fingerprint


def test_a_changed_listing_is_read_again(tmp_path: Path, parses: list[Path]) -> None:
    root = write_folder(tmp_path / "d", ["a"])
    assert load_dataset(root).files["img/a.png"] > 0
    Image.effect_noise((64, 64), 50).save(root / "img" / "a.png")  # another size
    assert load_dataset(root).files["img/a.png"] == (root / "img" / "a.png").stat().st_size
    (root / "img" / "b.png").write_bytes(b"x")  # a new file
    assert "img/b.png" in load_dataset(root).files
    assert len(parses) == 3


def test_a_broken_folder_raises_every_time_and_a_fixed_one_loads(tmp_path: Path, parses: list[Path]) -> None:
    root = tmp_path / "d"
    root.mkdir()
    (root / "annotations.jsonl").write_text(json.dumps({"id": "1", "question": "q", "answer": "a",
                                                        "images": ["../outside.png"]}) + "\n")
    for _ in range(2):
        with pytest.raises(Exception, match="outside"):
            load_dataset(root)
    (root / "annotations.jsonl").write_text(json.dumps({"id": "1", "question": "q", "answer": "a"}) + "\n")
    assert [s.id for s in load_dataset(root).samples] == ["1"]


def test_the_cache_holds_a_few_folders_only(tmp_path: Path, parses: list[Path]) -> None:
    roots = [write_folder(tmp_path / f"d{i}", ["a"]) for i in range(loader_module.CACHE_SIZE + 1)]
    for root in roots:
        load_dataset(root)
    load_dataset(roots[-1])  # kept
    assert len(parses) == len(roots)
    load_dataset(roots[0])  # the oldest was let go
    assert len(parses) == len(roots) + 1
