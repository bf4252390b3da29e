"""VLMEvalKit TSV options: empty cells are no option, a gap before a later option is refused.

The TSVs are written as VLMEvalKit's are (pandas ``to_csv(sep="\\t")``, an
empty cell for NaN; columns index, image, question, hint, A..D, answer,
category, l2-category, split) and read back as VLMEvalKit reads them
(``pd.read_csv(sep="\\t")``, an option where ``not pd.isna(cell)``) to check
that both see the same options.
"""

from __future__ import annotations

import base64
import io
import math
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from vlmbench.datasets import load_dataset
from vlmbench.datasets.importers import import_dataset
from vlmbench.errors import DatasetError

COLUMNS = ["index", "image", "question", "hint", "A", "B", "C", "D", "answer", "category", "l2-category", "split"]
NAN = math.nan


def png_base64(color: str) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def row(index: int, options: list, answer: str, hint=NAN, question: str = "Which one?") -> dict:
    cells = dict(zip("ABCD", [*options, NAN, NAN, NAN, NAN][:4], strict=True))
    return {"index": index, "image": png_base64("red"), "question": question, "hint": hint, **cells,
            "answer": answer, "category": "animals", "l2-category": "perception", "split": "dev"}


def write_tsv(path: Path, rows: list[dict], as_text: bool = False) -> Path:
    frame = pd.DataFrame(rows, columns=COLUMNS)
    if as_text:  # the cells str() leaves of a missing value, as after df.astype(str) in older pandas
        frame = frame.map(lambda value: "nan" if isinstance(value, float) and math.isnan(value) else str(value))
    frame.to_csv(path, sep="\t", index=False)
    return path


def vlmevalkit_options(path: Path) -> list[list[str]]:
    """The options VLMEvalKit's MCQ build_prompt shows for each row of the TSV."""
    data = pd.read_csv(path, sep="\t")
    return [[str(line[c]) for c in "ABCD" if c in line and not pd.isna(line[c])] for _, line in data.iterrows()]


def test_empty_options_written_by_pandas_are_no_options(tmp_path: Path):
    tsv = write_tsv(tmp_path / "MMBench_DEV.tsv", [
        row(0, ["dog", "cat", "bird"], "B"),
        row(1, ["yes", "no"], "A", hint="The animal is asleep."),
        row(2, ["red", "green", "blue", "yellow"], "D"),
    ])
    assert "\t\t" in tsv.read_text()  # NaN went out as an empty cell
    assert import_dataset("vlmevalkit-tsv", tsv, tmp_path / "mmb") == 3
    samples = load_dataset(tmp_path / "mmb").samples
    assert [s.choices for s in samples] == [("dog", "cat", "bird"), ("yes", "no"), ("red", "green", "blue", "yellow")]
    assert [list(s.choices) for s in samples] == vlmevalkit_options(tsv)
    assert samples[0].question == "Which one?"  # a NaN hint adds nothing
    assert samples[1].question == "The animal is asleep.\nWhich one?"
    assert [s.answer for s in samples] == ["B", "A", "D"]


def test_written_out_nan_and_none_are_no_options(tmp_path: Path):
    tsv = write_tsv(tmp_path / "text.tsv", [row(0, ["dog", "cat"], "A"), row(1, ["dog", "cat", "None"], "B")],
                    as_text=True)
    text = tsv.read_text()
    assert "\tnan\t" in text and "\tNone\t" in text and "\t\t" not in text
    import_dataset("vlmevalkit-tsv", tsv, tmp_path / "out")
    first, second = load_dataset(tmp_path / "out").samples
    assert first.choices == second.choices == ("dog", "cat")
    assert vlmevalkit_options(tsv) == [["dog", "cat"], ["dog", "cat"]]
    assert first.question == second.question == "Which one?"  # a "nan" hint adds nothing


def test_spelled_out_nan_variants_in_a_hand_written_tsv(tmp_path: Path):
    header = "\t".join(COLUMNS)
    image = png_base64("blue")
    lines = [f"7\t{image}\tWhich?\tNaN\tdog\tcat\tNaN\t\tA\tanimals\tperception\tdev",
             f"8\t{image}\tWhich?\t\tdog\tcat\tNone\tnan\tB\tanimals\tperception\tdev"]
    tsv = tmp_path / "hand.tsv"
    tsv.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    import_dataset("vlmevalkit-tsv", tsv, tmp_path / "out")
    assert [s.choices for s in load_dataset(tmp_path / "out").samples] == [("dog", "cat"), ("dog", "cat")]
    assert vlmevalkit_options(tsv) == [["dog", "cat"], ["dog", "cat"]]


@pytest.mark.parametrize("as_text", [False, True])
def test_a_gap_before_a_later_option_is_refused_naming_file_row_and_column(tmp_path: Path, as_text: bool):
    tsv = write_tsv(tmp_path / "gap.tsv", [row(0, ["dog", "cat", "bird"], "A"),
                                           row(1, ["dog", NAN, "bird", "fish"], "D")], as_text=as_text)
    with pytest.raises(DatasetError, match=r"gap\.tsv, row 2, column 'B': option C follows the empty option B"):
        import_dataset("vlmevalkit-tsv", tsv, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out*"))
    # VLMEvalKit would show this row's options as A. dog, B. bird, C. fish: answer D would name nothing.
    assert vlmevalkit_options(tsv)[1] == ["dog", "bird", "fish"]


def test_an_answer_letter_beyond_the_options_is_refused(tmp_path: Path):
    tsv = write_tsv(tmp_path / "answer.tsv", [row(0, ["dog", "cat", "bird"], "D")])
    with pytest.raises(DatasetError, match=r"answer\.tsv, row 1, column 'answer': the answer 'D' names no option"):
        import_dataset("vlmevalkit-tsv", tsv, tmp_path / "out")


def test_other_words_stay_options(tmp_path: Path):
    # "N/A" and "none" are answers a question can have; only empty, nan, NaN and None are missing.
    tsv = write_tsv(tmp_path / "words.tsv", [row(0, ["none", "N/A", "null"], "A")])
    import_dataset("vlmevalkit-tsv", tsv, tmp_path / "out")
    (sample,) = load_dataset(tmp_path / "out").samples
    assert sample.choices == ("none", "N/A", "null")
