import base64
import io
import json
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from vlmbench.cli.app import app
from vlmbench.datasets import load_dataset, load_image
from vlmbench.datasets.importers import import_dataset
from vlmbench.errors import DatasetError


def png_bytes(color: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buffer, format="PNG")
    return buffer.getvalue()


def write_tsv(path: Path, rows: list[dict[str, str]]) -> Path:
    header = list(rows[0])
    lines = ["\t".join(header)] + ["\t".join(row.get(c, "") for c in header) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_vlmevalkit_tsv_with_options_hints_and_shared_images(tmp_path):
    red = base64.b64encode(png_bytes("red")).decode()
    tsv = write_tsv(tmp_path / "MMBench.tsv", [
        {"index": "10", "image": red, "question": "What colour?", "hint": "Look closely.", "A": "red", "B": "blue",
         "C": "", "D": "", "answer": "A", "category": "color", "l2-category": "perception"},
        {"index": "11", "image": "10", "question": "Is it dark?", "hint": "nan", "A": "yes", "B": "no", "C": "",
         "D": "", "answer": "B", "category": "color", "l2-category": "perception"},
    ])
    assert import_dataset("vlmevalkit-tsv", tsv, tmp_path / "mmb") == 2
    dataset = load_dataset(tmp_path / "mmb")
    first, second = dataset.samples
    assert (first.id, first.choices, first.answer) == ("10", ("red", "blue"), "A")
    assert first.question == "Look closely.\nWhat colour?" and second.question == "Is it dark?"
    assert first.question_type == "multiple_choice" and first.doc_class == "color"
    assert second.images == first.images  # the repeated image is stored once
    assert load_image(dataset.root, first.images[0]).getpixel((0, 0)) == (255, 0, 0)


def test_vlmevalkit_bad_image_names_row_and_column(tmp_path):
    tsv = write_tsv(tmp_path / "bad.tsv", [{"index": "1", "image": "!!not-base64!!" * 10, "question": "q", "answer": "a"}])
    with pytest.raises(DatasetError, match=r"bad.tsv, row 1, column 'image'"):
        import_dataset("vlmevalkit-tsv", tsv, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out*"))


def test_hf_imagefolder(tmp_path):
    source = tmp_path / "folder"
    (source / "train").mkdir(parents=True)
    (source / "train" / "a.png").write_bytes(png_bytes("blue"))
    (source / "metadata.jsonl").write_text(
        json.dumps({"file_name": "train/a.png", "question": "colour?", "answer": "blue", "doc_class": "swatch"}) + "\n")
    assert import_dataset("hf-imagefolder", source, tmp_path / "out") == 1
    (sample,) = load_dataset(tmp_path / "out").samples
    assert (sample.answer, sample.doc_class, sample.images) == ("blue", "swatch", ("images/train/a.png",))
    assert sample.split == "train"  # from the image's split folder, as datasets reads it


def test_hf_imagefolder_refuses_paths_outside(tmp_path):
    source = tmp_path / "folder"
    source.mkdir()
    (tmp_path / "secret.png").write_bytes(png_bytes("black"))
    (source / "metadata.jsonl").write_text(json.dumps({"file_name": "../secret.png", "question": "q", "answer": "a"}))
    with pytest.raises(DatasetError, match="outside the folder"):
        import_dataset("hf-imagefolder", source, tmp_path / "out")


def test_import_command_and_existing_target(tmp_path):
    tsv = write_tsv(tmp_path / "x.tsv", [{"index": "1", "image": base64.b64encode(png_bytes("red")).decode(),
                                          "question": "q", "answer": "a"}])
    runner = CliRunner()
    result = runner.invoke(app, ["datasets", "import", "vlmevalkit-tsv", str(tsv), str(tmp_path / "out")])
    assert result.exit_code == 0 and "imported" in result.output
    again = runner.invoke(app, ["datasets", "import", "vlmevalkit-tsv", str(tsv), str(tmp_path / "out")])
    assert again.exit_code == 2 and "already exists" in again.output
    unknown = runner.invoke(app, ["datasets", "import", "coco", str(tsv), str(tmp_path / "o2")])
    assert unknown.exit_code == 2 and "vlmevalkit-tsv" in unknown.output
