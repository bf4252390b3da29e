"""The three document classes laid out as pages, and one rendered document with its ground truth.

Every document draws its data from its own ``random.Random`` seeded by
(seed, language, class, index): the same arguments give the same bytes on
every run with the same Pillow/FreeType, whichever documents were made
before it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from PIL import Image

from vlmbench.datasets.synthetic.fields import (
    Content,
    invoice_content,
    money,
    passport_content,
    receipt_content,
)
from vlmbench.datasets.synthetic.page import Cell, Page, age
from vlmbench.datasets.synthetic.words import LABELS

SEED = 20240601
LANGUAGES = ("ru", "en")
Language = Literal["ru", "en"]


def _invoice_page(content: Content, language: str) -> Page:
    label, fields = LABELS[language], content.fields
    page = Page(1240, "sans")
    page.text(label["invoice"], align="m", style="sans-bold", size=46)
    page.space(24)
    for group in (
        ("invoice_number", "date", "due_date"),
        ("seller", "seller_address"),
        ("buyer", "buyer_address"),
    ):
        for key in group:
            page.kv(label["address" if key.endswith("address") else key], fields[key], key)
        page.space(18)
    page.cells(
        Cell(label["no"], 70),
        Cell(label["item"], 140),
        Cell(label["qty"], 760, "r"),
        Cell(label["price"], 960, "r"),
        Cell(label["amount"], 1170, "r"),
        style="sans-bold",
        size=28,
    )
    page.rule()
    for number, item in enumerate(content.items, 1):
        page.cells(
            Cell(str(number), 70),
            Cell(item.name, 140),
            Cell(str(item.qty), 760, "r"),
            Cell(money(item.price, language), 960, "r"),
            Cell(money(item.amount, language), 1170, "r"),
            size=28,
        )
    page.rule()
    for key in ("subtotal", "vat", "total"):
        page.cells(
            Cell(label[key], 960, "r", style="sans-bold"), Cell(fields[key], 1170, "r", field=key), size=28
        )
    page.space(40)
    page.text(label["invoice_note"], size=26)
    return page


def _passport_page(content: Content, language: str) -> Page:
    label = LABELS[language]
    page = Page(1500, "serif")
    page.text(label["country"], align="m", style="serif-bold", size=40)
    page.text(label["passport"], align="m", style="serif-bold", size=40)
    page.text(label["specimen"], align="m", style="sans-bold", size=32)
    page.space(30)
    page.photo()
    for key, value in content.fields.items():
        page.kv(label[key], value, key, label_x=440)
    page.space(30)
    page.text(label["fictitious"], align="m", size=26)
    return page


def _receipt_page(content: Content, language: str) -> Page:
    label, fields = LABELS[language], content.fields
    page = Page(1000, "mono", margin=60)
    page.text(fields["store"], align="m", style="mono-bold", size=36, field="store")
    page.text(fields["store_address"], align="m", size=26, field="store_address")
    page.space(20)
    for key in ("receipt_number", "date", "time", "cashier"):
        page.kv(label[key], fields[key], key)
    page.rule()
    for item in content.items:
        page.cells(
            Cell(item.name, 60),
            Cell(f"{item.qty} x {money(item.price, language)}", 700, "r"),
            Cell(money(item.amount, language), 940, "r"),
        )
    page.rule()
    page.cells(
        Cell(label["receipt_total"], 60),
        Cell(fields["total"], 940, "r", field="total"),
        style="mono-bold",
        size=34,
    )
    page.kv(label["payment_method"], fields["payment_method"], "payment_method")
    page.space(30)
    page.text(label["thanks"], align="m")
    return page


ContentMaker = Callable[[random.Random, str], Content]
PageMaker = Callable[[Content, str], Page]
# Class -> (its data, its page); the order is the order write_synthetic writes them in.
BUILDERS: dict[str, tuple[ContentMaker, PageMaker]] = {
    "invoice": (invoice_content, _invoice_page),
    "passport": (passport_content, _passport_page),
    "receipt": (receipt_content, _receipt_page),
}
DOC_CLASSES = tuple(BUILDERS)


@dataclass(frozen=True)
class Document:
    """One rendered document and its ground truth."""

    doc_id: str
    language: str
    doc_class: str
    image: Image.Image
    lines: list[str]  # the rendered text, row by row in reading order
    fields: dict[str, str]
    boxes: dict[str, list[int]]  # field -> [x0, y0, x1, y1] of its value on the page

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def make_document(language: Language, doc_class: str, index: int, seed: int = SEED) -> Document:
    """Render document ``index`` (0-based) of a class; the same arguments give the same document."""
    rng = random.Random(f"{seed}:{language}:{doc_class}:{index}")
    make_content, make_page = BUILDERS[doc_class]
    content = make_content(rng, language)
    image, lines, boxes = make_page(content, language).render()
    # Aged after the data is drawn, from the same rng, so the specks differ per document too.
    return Document(
        f"{language}-{doc_class}-{index + 1:03d}",
        language,
        doc_class,
        age(image, rng),
        lines,
        content.fields,
        boxes,
    )
