"""The synthetic documents are legible: real Tesseract reads them back almost exactly."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from vlmbench.datasets.synthetic import DOC_CLASSES, make_document

TESSDATA = Path("/usr/share/tesseract-ocr/5/tessdata")


def collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def tesseract() -> Iterator[object]:
    import tesserocr

    assert (TESSDATA / "rus.traineddata").is_file(), f"no Russian Tesseract data in {TESSDATA}"
    # Tesseract's OpenMP threads slow it down tenfold on small machines; must be set before init.
    previous = os.environ.get("OMP_THREAD_LIMIT")
    os.environ["OMP_THREAD_LIMIT"] = "1"
    with tesserocr.PyTessBaseAPI(path=str(TESSDATA), lang="rus+eng", psm=tesserocr.PSM.SINGLE_BLOCK) as api:
        yield api
    if previous is None:
        os.environ.pop("OMP_THREAD_LIMIT", None)
    else:
        os.environ["OMP_THREAD_LIMIT"] = previous


@pytest.mark.integration
@pytest.mark.tesseract
@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize("doc_class", DOC_CLASSES)
def test_tesseract_reads_generated_documents(tesseract, language: str, doc_class: str) -> None:
    import jiwer

    for index in range(2):
        document = make_document(language, doc_class, index)
        tesseract.SetImage(document.image)
        read = collapse(tesseract.GetUTF8Text())
        cer = jiwer.cer(collapse(document.text), read)
        assert cer < 0.15, f"{document.doc_id}: CER {cer:.3f}\nexpected: {document.text}\nread: {read}"
