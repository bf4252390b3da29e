"""The synthetic document generator: deterministic, and its answers are what the page shows."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest

from vlmbench.datasets import load_dataset
from vlmbench.datasets.synthetic import DOC_CLASSES, QUESTIONS, make_document, write_synthetic


def tree_digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("language", ["ru", "en"])
def test_two_runs_write_identical_bytes(tmp_path: Path, language: str) -> None:
    first = write_synthetic(tmp_path / "a", language, docs_per_class=2)
    second = write_synthetic(tmp_path / "b", language, docs_per_class=2)
    assert first == second
    digests = tree_digest(tmp_path / "a")
    assert digests == tree_digest(tmp_path / "b")
    assert len([name for name in digests if name.endswith(".png")]) == 2 * len(DOC_CLASSES)


def test_another_seed_gives_other_documents() -> None:
    assert make_document("en", "invoice", 0).fields != make_document("en", "invoice", 0, seed=7).fields
    assert make_document("en", "invoice", 0).fields != make_document("en", "invoice", 1).fields


@pytest.mark.parametrize("language", ["ru", "en"])
def test_annotation_answers_match_the_fields(tmp_path: Path, language: str) -> None:
    count = write_synthetic(tmp_path, language, docs_per_class=2)
    dataset = load_dataset(tmp_path)  # the generator's output passes the loader's checks
    assert len(dataset.samples) == count
    by_image: dict[str, list] = {}
    for sample in dataset.samples:
        by_image.setdefault(sample.images[0], []).append(sample)
    assert len(by_image) == 6
    for samples in by_image.values():
        types = [s.question_type for s in samples]
        assert types[0] == "full_text" and types[-1] == "fields_json"
        assert set(types[1:-1]) == {"field"}
        full_text = samples[0].answer
        fields = json.loads(samples[-1].answer)
        field_samples = samples[1:-1]
        assert {s.metadata["field"]: s.answer for s in field_samples} == fields
        for sample in field_samples:
            assert sample.answer in full_text  # every field value is printed on the page
            assert sample.question == QUESTIONS[language][sample.metadata["field"]]
            x0, y0, x1, y1 = sample.metadata["answer_bbox"]
            assert 0 <= x0 < x1 and 0 <= y0 < y1
        assert all(s.split == "test" and s.doc_class in DOC_CLASSES for s in samples)
        assert all(key in samples[-1].question for key in fields)


def test_russian_documents_are_cyrillic_and_english_are_latin() -> None:
    for doc_class in DOC_CLASSES:
        ru = make_document("ru", doc_class, 3)
        en = make_document("en", doc_class, 3)
        assert sum("а" <= c.lower() <= "я" for c in ru.text) > 50
        assert not any("а" <= c.lower() <= "я" for c in en.text)


def test_documents_have_the_promised_shape() -> None:
    invoice = make_document("ru", "invoice", 0)
    assert invoice.doc_id == "ru-invoice-001"
    assert 1000 <= invoice.image.width <= 1600
    assert {"invoice_number", "seller", "buyer", "subtotal", "vat", "total"} <= set(invoice.fields)
    assert invoice.lines[0] == "СЧЕТ НА ОПЛАТУ"
    passport = make_document("en", "passport", 0)
    assert "SPECIMEN" in passport.text and "fictitious" in passport.text
    assert "patronymic" in make_document("ru", "passport", 0).fields
    receipt = make_document("en", "receipt", 5)
    assert receipt.fields["total"] in receipt.lines[-3]


def test_invoice_totals_add_up() -> None:
    for index in range(5):
        fields = make_document("en", "invoice", index).fields
        cents = {k: int(fields[k].replace(",", "").replace(".", "")) for k in ("subtotal", "vat", "total")}
        assert cents["subtotal"] + cents["vat"] == cents["total"]
        assert abs(cents["vat"] - cents["subtotal"] * 0.2) <= 1


def test_csv_is_semicolon_separated_with_a_field_column(tmp_path: Path) -> None:
    write_synthetic(tmp_path, "en", docs_per_class=1)
    with (tmp_path / "annotation.csv").open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle, delimiter=";"))
    assert header == [
        "data_index",
        "split",
        "image_path",
        "question",
        "answer",
        "doc_class",
        "question_type",
        "answer_bbox",
        "field",
    ]


def test_progress_is_reported_per_document(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    write_synthetic(
        tmp_path, "ru", docs_per_class=1, progress=lambda done, total: calls.append((done, total))
    )
    assert calls == [(1, 3), (2, 3), (3, 3)]
