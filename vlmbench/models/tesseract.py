"""Tesseract OCR as a baseline model: it transcribes, whatever the question.

Tesseract is single-threaded per API handle and runs best with
``OMP_THREAD_LIMIT=1``; a batch is answered by a small pool of handles so
that both cores of a laptop or CI runner stay busy.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from queue import SimpleQueue
from typing import Any

from vlmbench.errors import ModelLoadError
from vlmbench.models.base import Request, VisionLanguageModel
from vlmbench.registry import register_model

# Debian/Ubuntu, Fedora, Homebrew: the places a tessdata folder is usually found.
TESSDATA_CANDIDATES = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
    "/opt/homebrew/share/tessdata",
)

PAGE_SEGMENTATION_MODES = {"auto": 3, "block": 6, "line": 7, "sparse": 11}


def find_tessdata(languages: list[str], explicit: str | None = None) -> Path:
    candidates = [explicit] if explicit else [os.environ.get("TESSDATA_PREFIX"), *TESSDATA_CANDIDATES]
    looked = []
    for candidate in filter(None, candidates):
        folder = Path(candidate)
        looked.append(str(folder))
        if all((folder / f"{lang}.traineddata").is_file() for lang in languages):
            return folder
    raise ModelLoadError(
        f"Tesseract language data for {'+'.join(languages)} not found (looked in {', '.join(looked)})",
        hint="apt-get install tesseract-ocr-eng tesseract-ocr-rus, or set TESSDATA_PREFIX",
    )


@register_model("tesseract")
class TesseractOCR(VisionLanguageModel):
    """Transcribes every image of a request; the prompt is ignored."""

    def __init__(self, weights: str | None = None, lang: str = "rus+eng", psm: str | int = "block",
                 threads: int | None = None, tessdata: str | None = None, **params: Any) -> None:
        super().__init__(weights, **params)
        try:
            import tesserocr
        except ImportError:
            raise ModelLoadError("the Tesseract adapter needs tesserocr", hint="pip install tesserocr") from None
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")
        languages = lang.split("+")
        folder = find_tessdata(languages, tessdata or weights)
        mode = PAGE_SEGMENTATION_MODES.get(psm, psm) if isinstance(psm, str) else psm
        self.max_batch_size = threads or os.cpu_count() or 1
        self._apis: SimpleQueue = SimpleQueue()
        for _ in range(self.max_batch_size):
            self._apis.put(tesserocr.PyTessBaseAPI(path=str(folder), lang=lang, psm=int(mode)))
        self._pool = ThreadPoolExecutor(self.max_batch_size, thread_name_prefix="tesseract")

    def _transcribe(self, request: Request) -> str:
        api = self._apis.get()
        try:
            texts = []
            for image in request.images:
                api.SetImage(image)
                texts.append(api.GetUTF8Text().strip())
            return "\n".join(texts)
        finally:
            self._apis.put(api)

    def generate(self, requests: Sequence[Request]) -> list[str]:
        # tesserocr releases the GIL while recognising, so threads do run in parallel.
        return list(self._pool.map(self._transcribe, requests))

    def close(self) -> None:
        self._pool.shutdown()
        while not self._apis.empty():
            self._apis.get().End()
