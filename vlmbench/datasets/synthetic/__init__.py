"""Synthetic Russian and English documents with exact ground truth.

Invoices, specimen identity forms and receipts, rendered with PIL. The
rooms: words.py holds the word lists, labels and questions; fields.py
invents each document's data; page.py lays out and draws a page and ages
it like a scan; documents.py lays out the three classes; writer.py writes
a dataset folder. Importing this package imports PIL.
"""

from vlmbench.datasets.synthetic.documents import (
    DOC_CLASSES,
    LANGUAGES,
    SEED,
    Document,
    Language,
    make_document,
)
from vlmbench.datasets.synthetic.words import QUESTIONS
from vlmbench.datasets.synthetic.writer import write_synthetic

__all__ = [
    "DOC_CLASSES",
    "LANGUAGES",
    "QUESTIONS",
    "SEED",
    "Document",
    "Language",
    "make_document",
    "write_synthetic",
]
