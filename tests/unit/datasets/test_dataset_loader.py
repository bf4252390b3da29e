"""Reading dataset folders: both annotation formats, their mistakes, and image paths."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PIL import Image

from vlmbench.datasets import Sample, dataset_fingerprint, load_dataset, load_image, select_samples
from vlmbench.errors import DatasetError

HEADER = "data_index;split;image_path;question;answer;doc_class;question_type;answer_bbox"


def make_image(path: Path, size: tuple[int, int] = (8, 6), color: str = "red") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path)
    return path


def write_csv(root: Path, lines: list[str], *, sep: str = ";", bom: bool = False) -> Path:
    text = "\n".join(line.replace(";", sep) if sep != ";" else line for line in lines) + "\n"
    path = root / "annotation.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def write_jsonl(root: Path, objects: list[dict | str]) -> Path:
    path = root / "annotations.jsonl"
    lines = [o if isinstance(o, str) else json.dumps(o, ensure_ascii=False) for o in objects]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def problem_lines(error: pytest.ExceptionInfo[DatasetError]) -> list[str]:
    return error.value.lines()


# --- annotation.csv ------------------------------------------------------------------------------------


@pytest.mark.parametrize("sep", [";", ","])
@pytest.mark.parametrize("bom", [False, True])
def test_csv_reads_every_column_with_either_separator_and_bom(tmp_path: Path, sep: str, bom: bool) -> None:
    make_image(tmp_path / "img" / "a.png")
    write_csv(
        tmp_path,
        [
            HEADER + ";source",
            'q1;test;img/a.png;Какой цвет?;красный;poster;color;"[1, 2, 3, 4]";scan',
            "q2;train;;What is 2+2?;4;;math;;",
        ],
        sep=sep,
        bom=bom,
    )
    dataset = load_dataset(tmp_path)
    first, second = dataset.samples
    assert first == Sample(
        id="q1",
        question="Какой цвет?",
        answer="красный",
        images=["img/a.png"],
        split="test",
        doc_class="poster",
        question_type="color",
        metadata={"answer_bbox": [1, 2, 3, 4], "source": "scan"},
    )
    assert second.images == () and second.doc_class is None and second.split == "train"
    assert dataset.name == tmp_path.name and dataset.root == tmp_path.resolve()
    assert len(dataset.fingerprint) == 16


def test_csv_keeps_quoted_separators_and_newlines_in_answers(tmp_path: Path) -> None:
    write_csv(tmp_path, ["question;answer", 'Transcribe;"line one; still one\nline two"'])
    assert load_dataset(tmp_path).samples[0].answer == "line one; still one\nline two"


def test_csv_without_data_index_numbers_rows_from_one(tmp_path: Path) -> None:
    write_csv(tmp_path, ["question;answer", "a?;1", "", "b?;2"])
    assert [s.id for s in load_dataset(tmp_path).samples] == ["1", "2"]


def test_csv_list_literals_give_several_images_and_choices(tmp_path: Path) -> None:
    make_image(tmp_path / "p1.png")
    make_image(tmp_path / "p2.png")
    write_csv(
        tmp_path,
        [
            "data_index;image_path;question;answer;choices",
            """1;['p1.png', "p2.png"];Which page first?;B;["p1", 'p2']""",
        ],
    )
    sample = load_dataset(tmp_path).samples[0]
    assert sample.images == ("p1.png", "p2.png")
    assert sample.choices == ("p1", "p2")


def test_csv_bad_list_literal_names_its_column(tmp_path: Path) -> None:
    write_csv(tmp_path, ["question;answer;choices", "q;A;[red, blue"])
    with pytest.raises(DatasetError) as error:
        load_dataset(tmp_path)
    assert "row 1, column 'choices'" in str(error.value)


def test_csv_repeated_data_index_is_one_sample_per_question(tmp_path: Path) -> None:
    # VLMHyperBench's layout: one row per question, data_index names the image (see test_sample_ids.py).
    write_csv(tmp_path, [HEADER, "7;;;a?;1;;;", "8;;;b?;2;;;", "7;;;c?;3;;;"])
    assert [s.id for s in load_dataset(tmp_path).samples] == ["7:a?", "8:b?", "7:c?"]


def test_csv_missing_required_column_lists_what_was_expected(tmp_path: Path) -> None:
    write_csv(tmp_path, ["data_index;image_path;question", "1;;a?"])
    with pytest.raises(DatasetError) as error:
        load_dataset(tmp_path)
    text = str(error.value)
    assert "column 'answer'" in text and "missing required column" in text
    assert "data_index;split;image_path;question;answer" in text  # the hint shows the layout


def test_csv_row_with_too_many_cells_suggests_quoting(tmp_path: Path) -> None:
    write_csv(tmp_path, ["question;answer", "a?;1;2"])
    with pytest.raises(DatasetError, match=r"row 1: 3 cells, but the header has 2 columns.*double quotes"):
        load_dataset(tmp_path)


def test_every_bad_row_is_reported_at_once(tmp_path: Path) -> None:
    write_csv(
        tmp_path,
        ["data_index;question;answer;image_path", "1;a;b;missing1.png", "2;a;b;", "3;a;b;/etc/hosts"],
    )
    with pytest.raises(DatasetError) as error:
        load_dataset(tmp_path)
    lines = problem_lines(error)
    assert len(lines) == 2
    assert "row 1" in lines[0] and "not found" in lines[0]
    assert "row 3" in lines[1] and "absolute" in lines[1]


def test_non_utf8_annotation_is_refused(tmp_path: Path) -> None:
    (tmp_path / "annotation.csv").write_bytes("question;answer\nвопрос;ответ\n".encode("cp1251"))
    with pytest.raises(DatasetError, match="not UTF-8.*line 2"):
        load_dataset(tmp_path)


# --- image paths ---------------------------------------------------------------------------------------


def test_path_escaping_with_dotdot_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    make_image(tmp_path / "secret.png")
    make_image(root / "img" / "ok.png")
    write_csv(root, ["question;answer;image_path", "a;b;img/ok.png", "a;b;img/../../secret.png"])
    with pytest.raises(DatasetError) as error:
        load_dataset(root)
    (line,) = problem_lines(error)
    assert f"{root / 'annotation.csv'}, row 2, column 'image_path'" in line
    assert "outside the dataset folder" in line and "must stay inside" in line


def test_absolute_image_path_is_refused_even_inside_the_folder(tmp_path: Path) -> None:
    image = make_image(tmp_path / "a.png")
    write_csv(tmp_path, ["question;answer;image_path", f"a;b;{image}"])
    with pytest.raises(DatasetError, match=r"row 1, column 'image_path': image path .* is absolute"):
        load_dataset(tmp_path)


def test_symlink_leading_outside_is_refused_but_one_inside_is_fine(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    outside = make_image(tmp_path / "outside.png")
    inside = make_image(root / "real" / "in.png")
    (root / "link_out.png").symlink_to(outside)
    (root / "link_in.png").symlink_to(inside)
    os.symlink(tmp_path, root / "linked_dir")
    write_csv(root, ["question;answer;image_path", "a;b;link_in.png"])
    assert load_dataset(root).samples[0].images == ("real/in.png",)

    write_csv(root, ["question;answer;image_path", "a;b;link_out.png", "a;b;linked_dir/outside.png"])
    with pytest.raises(DatasetError) as error:
        load_dataset(root)
    lines = problem_lines(error)
    assert len(lines) == 2 and all("outside the dataset folder" in line for line in lines)


def test_missing_image_names_the_file(tmp_path: Path) -> None:
    write_csv(tmp_path, ["question;answer;image_path", "a;b;img/none.png"])
    with pytest.raises(
        DatasetError, match=r"row 1, column 'image_path': image file not found: .*img/none.png"
    ):
        load_dataset(tmp_path)


def test_image_paths_are_normalised(tmp_path: Path) -> None:
    make_image(tmp_path / "img" / "a.png")
    write_csv(tmp_path, ["question;answer;image_path", "a;b;./img/../img/a.png"])
    assert load_dataset(tmp_path).samples[0].images == ("img/a.png",)


# --- annotations.jsonl ---------------------------------------------------------------------------------


def test_jsonl_reads_multi_image_multiple_choice_and_metadata(tmp_path: Path) -> None:
    make_image(tmp_path / "a.png")
    make_image(tmp_path / "b.png")
    write_jsonl(
        tmp_path,
        [
            {
                "id": 10,
                "images": ["a.png", "b.png"],
                "question": "Same?",
                "answer": "B",
                "choices": ["yes", "no"],
                "doc_class": "pair",
                "question_type": "mc",
                "split": "test",
                "source": "web",
                "metadata": {"k": 1},
            },
            {"question": "Fields?", "answer": {"name": "Иван", "age": 30}},
        ],
    )
    first, second = load_dataset(tmp_path, name="mine").samples
    assert first.id == "10" and first.images == ("a.png", "b.png") and first.choices == ("yes", "no")
    assert (first.doc_class, first.question_type, first.split) == ("pair", "mc", "test")
    assert first.metadata == {"k": 1, "source": "web"}
    assert second.id == "2"  # its line number
    assert second.answer == '{"name":"Иван","age":30}'


def test_jsonl_bad_line_is_reported_by_line_number(tmp_path: Path) -> None:
    write_jsonl(tmp_path, [{"id": "a", "question": "q", "answer": "a"}, "", '{"id": "b", "question": "q",'])
    with pytest.raises(DatasetError, match=r"annotations.jsonl, row 3: not valid JSON"):
        load_dataset(tmp_path)


def test_jsonl_missing_answer_and_wrong_types(tmp_path: Path) -> None:
    write_jsonl(
        tmp_path,
        [{"id": "a", "question": "q"}, {"id": "b", "question": "q", "answer": "x", "images": 3}, "[1, 2]"],
    )
    with pytest.raises(DatasetError) as error:
        load_dataset(tmp_path)
    lines = problem_lines(error)
    assert "row 1, column 'answer': missing key 'answer'" in lines[0]
    assert "row 2, column 'images'" in lines[1]
    assert "row 3: a JSON list, not an object" in lines[2]


def test_jsonl_duplicate_id_and_escaping_image(tmp_path: Path) -> None:
    write_jsonl(
        tmp_path,
        [
            {"id": "a", "question": "q", "answer": "1"},
            {"id": "a", "question": "q", "answer": "2"},
            {"id": "c", "images": ["../x.png"], "question": "q", "answer": "3"},
        ],
    )
    with pytest.raises(DatasetError) as error:
        load_dataset(tmp_path)
    lines = problem_lines(error)
    assert "row 2, column 'id': duplicate id 'a'" in lines[0]
    assert "row 3, column 'images'" in lines[1] and "outside" in lines[1]


# --- the folder ----------------------------------------------------------------------------------------


def test_folder_without_annotation_says_which_files_are_expected(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"no annotation file.*annotation\.csv.*annotations\.jsonl"):
        load_dataset(tmp_path)


def test_folder_with_both_annotation_files_is_ambiguous(tmp_path: Path) -> None:
    write_csv(tmp_path, ["question;answer", "a;b"])
    write_jsonl(tmp_path, [{"question": "a", "answer": "b"}])
    with pytest.raises(DatasetError, match="both annotation.csv and annotations.jsonl"):
        load_dataset(tmp_path)


def test_missing_folder_and_empty_annotation(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="dataset folder not found"):
        load_dataset(tmp_path / "nope")
    write_csv(tmp_path, ["question;answer"])
    with pytest.raises(DatasetError, match="no samples"):
        load_dataset(tmp_path)


def test_annotation_file_path_loads_its_folder(tmp_path: Path) -> None:
    csv_path = write_csv(tmp_path, ["question;answer", "a;b"])
    assert load_dataset(csv_path).root == tmp_path.resolve()


# --- fingerprint ---------------------------------------------------------------------------------------


def test_fingerprint_follows_annotation_and_images(tmp_path: Path) -> None:
    make_image(tmp_path / "a.png", size=(8, 8))
    write_csv(tmp_path, ["question;answer;image_path", "a;b;a.png"])
    first = dataset_fingerprint(tmp_path)
    assert first == dataset_fingerprint(tmp_path) == load_dataset(tmp_path).fingerprint

    (tmp_path / ".DS_Store").write_bytes(b"junk")  # hidden files do not count
    assert dataset_fingerprint(tmp_path) == first

    write_csv(tmp_path, ["question;answer;image_path", "a;c;a.png"])
    after_annotation = dataset_fingerprint(tmp_path)
    assert after_annotation != first

    Image.effect_noise((64, 64), 50).save(tmp_path / "a.png")  # a different image, a different size
    after_image = dataset_fingerprint(tmp_path)
    assert after_image != after_annotation

    make_image(tmp_path / "extra" / "b.png")
    assert dataset_fingerprint(tmp_path) != after_image


# --- selection and images ------------------------------------------------------------------------------


def test_select_samples_filters_then_limits() -> None:
    samples = [
        Sample(
            id=str(i),
            question="q",
            answer="a",
            doc_class=("invoice", "receipt")[i % 2],
            question_type=("field", "full_text", "fields_json")[i % 3],
        )
        for i in range(12)
    ]
    assert select_samples(samples) == samples
    assert select_samples(samples, [], [], None) == samples  # empty filters mean "no filter"
    invoices = select_samples(samples, doc_classes=["invoice"])
    assert [s.id for s in invoices] == ["0", "2", "4", "6", "8", "10"]
    both = select_samples(samples, ["invoice"], ["field"], limit=1)
    assert [s.id for s in both] == ["0"]
    assert select_samples(samples, question_types=["fields_json", "field"], limit=3) == [
        samples[0],
        samples[2],
        samples[3],
    ]
    assert select_samples(samples, limit=0) == []
    with pytest.raises(ValueError):
        select_samples(samples, limit=-1)


def test_load_image_gives_loaded_rgb_and_white_under_transparency(tmp_path: Path) -> None:
    Image.new("L", (5, 4), 100).save(tmp_path / "grey.png")
    image = load_image(tmp_path, "grey.png")
    (tmp_path / "grey.png").unlink()  # fully read: the file is no longer needed
    assert image.mode == "RGB" and image.size == (5, 4) and image.getpixel((0, 0)) == (100, 100, 100)

    Image.new("RGBA", (3, 3), (0, 0, 0, 0)).save(tmp_path / "clear.png")
    assert load_image(tmp_path, "clear.png").getpixel((1, 1)) == (255, 255, 255)

    (tmp_path / "broken.png").write_bytes(b"not an image")
    with pytest.raises(OSError):
        load_image(tmp_path, "broken.png")


def test_ten_thousand_samples_sharing_images_load(tmp_path: Path) -> None:
    for i in range(500):
        (tmp_path / "img").mkdir(exist_ok=True)
        (tmp_path / "img" / f"{i}.png").write_bytes(b"x")  # the loader checks paths, it does not decode
    lines = [HEADER] + [
        f"{i};test;img/{i % 500}.png;q {i}?;a;c{i % 3};field;[1, 2, 3, 4]" for i in range(10_000)
    ]
    write_csv(tmp_path, lines)
    dataset = load_dataset(tmp_path)
    assert len(dataset.samples) == 10_000
    assert dataset.samples[-1].images == ("img/499.png",) and dataset.samples[-1].doc_class == "c0"


def test_duplicate_ids_in_an_id_column_name_that_column(tmp_path: Path) -> None:
    (tmp_path / "annotation.csv").write_text("id;question;answer\n1;q;a\n1;q2;b\n", encoding="utf-8")
    with pytest.raises(DatasetError) as caught:
        load_dataset(tmp_path)
    assert "column 'id'" in str(caught.value) and "duplicate id '1'" in str(caught.value)
