"""A synthetic dataset folder: document images and the questions asked about each.

Every document gets three kinds of question: transcribe the whole page
(``full_text``), read one field (``field``, with the value's box), and
extract every field as JSON (``fields_json``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from vlmbench.datasets.annotation_csv import write_annotation_csv
from vlmbench.datasets.synthetic.documents import (
    DOC_CLASSES,
    LANGUAGES,
    SEED,
    Document,
    Language,
    make_document,
)
from vlmbench.datasets.synthetic.words import QUESTIONS

EXTRA_COLUMNS = ("field",)  # after CSV_COLUMNS: which field a ``field`` question asks for


def _annotation_rows(doc: Document, image_path: str) -> list[list[str]]:
    questions = QUESTIONS[doc.language]

    def row(
        kind: str, question: str, answer: str, question_type: str, bbox: str = "", key: str = ""
    ) -> list[str]:
        # In the order of CSV_COLUMNS, then EXTRA_COLUMNS.
        sample_id = f"{doc.doc_id}-{kind}"
        return [sample_id, "test", image_path, question, answer, doc.doc_class, question_type, bbox, key]

    rows = [row("full_text", questions["full_text"], doc.text, "full_text")]
    for key, value in doc.fields.items():
        rows.append(row(key, questions[key], value, "field", json.dumps(doc.boxes[key]), key))
    everything = json.dumps(doc.fields, ensure_ascii=False, separators=(",", ":"))
    question = questions["fields_json"].format(keys=", ".join(doc.fields))
    rows.append(row("fields_json", question, everything, "fields_json"))
    return rows


def write_synthetic(
    target: Path,
    language: Language = "ru",
    docs_per_class: int = 20,
    seed: int = SEED,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write images/ and annotation.csv (``;``-separated) into ``target``; return the sample count."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {language!r}")
    target = Path(target)
    (target / "images").mkdir(parents=True, exist_ok=True)
    rows: list[list[str]] = []
    total, done = docs_per_class * len(DOC_CLASSES), 0
    for doc_class in DOC_CLASSES:
        for index in range(docs_per_class):
            doc = make_document(language, doc_class, index, seed)
            image_path = f"images/{doc.doc_id}.png"
            doc.image.save(target / image_path, compress_level=6)
            rows.extend(_annotation_rows(doc, image_path))
            done += 1
            if progress:
                progress(done, total)
    write_annotation_csv(target, rows, EXTRA_COLUMNS)
    return len(rows)
