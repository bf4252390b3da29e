"""The invented data of each document class: its ground-truth fields and its line items.

Each function draws everything from the ``rng`` it is given and nothing
else, in a fixed order: the same generator state gives the same document.
Drawing all data before any layout keeps that order independent of how
the page is laid out. Amounts are integers in cents, so totals are exact.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

from vlmbench.datasets.synthetic.words import LABELS, WORDS

# Not strftime("%b"): a user's locale must not change the documents.
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


class Item(NamedTuple):
    """One line of an invoice or receipt."""

    name: str
    qty: int
    price: int  # cents per unit

    @property
    def amount(self) -> int:
        return self.qty * self.price


@dataclass(frozen=True)
class Content:
    """What one document says: fields in the order they are asked about, and its line items."""

    fields: dict[str, str]
    items: list[Item] = field(default_factory=list)


def money(cents: int, language: str) -> str:
    """``1,234.50`` in English, ``1 234,50`` in Russian."""
    text = f"{cents // 100:,}.{cents % 100:02d}"
    return text.replace(",", " ").replace(".", ",") if language == "ru" else text


def _day(rng: random.Random, first_year: int, last_year: int) -> date:
    start = date(first_year, 1, 1)
    return start + timedelta(days=rng.randrange((date(last_year, 12, 31) - start).days))


def _date(day: date, language: str, passport: bool = False) -> str:
    if language == "ru":
        return day.strftime("%d.%m.%Y")
    return f"{day.day:02d} {MONTHS[day.month - 1]} {day.year}" if passport else day.isoformat()


def _address(rng: random.Random, language: str) -> str:
    words, number = WORDS[language], rng.randint(1, 120)
    if language == "ru":
        return f"г. {rng.choice(words['city'])}, {rng.choice(words['street'])}, д. {number}"
    return f"{number} {rng.choice(words['street'])}, {rng.choice(words['city'])}"


def _company(rng: random.Random, language: str, name: str) -> str:
    kind = rng.choice(WORDS[language]["firm_kind"])
    return f"{kind} «{name}»" if language == "ru" else f"{name} {kind}"


def invoice_content(rng: random.Random, language: str) -> Content:
    words = WORDS[language]
    issued = _day(rng, 2022, 2024)
    seller, buyer = (_company(rng, language, name) for name in rng.sample(words["firm"], 2))
    fields = {
        "invoice_number": f"{'СЧ' if language == 'ru' else 'INV'}-{issued.year}-{rng.randint(1, 9999):04d}",
        "date": _date(issued, language),
        "due_date": _date(issued + timedelta(days=rng.choice((10, 14, 30))), language),
        "seller": seller,
        "seller_address": _address(rng, language),
        "buyer": buyer,
        "buyer_address": _address(rng, language),
    }
    unit = (300, 40000) if language == "ru" else (5, 900)
    items = [
        Item(name, rng.randint(1, 12), rng.randint(*unit) * 100 + rng.choice((0, 50, 99)))
        for name in rng.sample(words["goods"], rng.randint(3, 6))
    ]
    subtotal = sum(item.amount for item in items)
    vat = (subtotal * 20 + 50) // 100
    fields |= {
        "subtotal": money(subtotal, language),
        "vat": money(vat, language),
        "total": money(subtotal + vat, language),
    }
    return Content(fields, items)


def passport_content(rng: random.Random, language: str) -> Content:
    words = WORDS[language]
    female = rng.random() < 0.5
    given = rng.choice(words["female" if female else "male"])
    surname = rng.choice(words["surname"]) + ("а" if female and language == "ru" else "")
    issued = _day(rng, 2016, 2023)
    expires = issued.replace(year=issued.year + 10, day=min(issued.day, 28))  # no 29 February ten years on
    city = rng.choice(words["city"]).upper()
    fields = {"surname": surname.upper(), "given_names": given.upper()}
    if language == "ru":
        fields["patronymic"] = (rng.choice(words["patronymic"]) + ("на" if female else "ич")).upper()
        fields["sex"] = "ЖЕН." if female else "МУЖ."
        fields["place_of_birth"] = f"Г. {city}"
        number = f"{rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(0, 999999):06d}"
        authority = f"УМВД ПО Г. {city}"
    else:
        if rng.random() < 0.4:
            fields["given_names"] += " " + rng.choice(words["female" if female else "male"]).upper()
        fields["sex"] = "F" if female else "M"
        fields["place_of_birth"] = city
        number = f"SP{rng.randint(0, 9999999):07d}"
        authority = f"CIVIL REGISTRY {city}"
    # Reordered into the order the form prints them, which is the order they are asked about.
    fields = {
        **{k: fields[k] for k in ("surname", "given_names", "patronymic", "sex") if k in fields},
        "date_of_birth": _date(_day(rng, 1950, 2004), language, passport=True),
        "place_of_birth": fields["place_of_birth"],
        "document_number": number,
        "date_of_issue": _date(issued, language, passport=True),
        "date_of_expiry": _date(expires, language, passport=True),
        "authority": authority,
    }
    return Content(fields)


def receipt_content(rng: random.Random, language: str) -> Content:
    words = WORDS[language]
    store = rng.choice(words["store"])
    unit = (39, 899) if language == "ru" else (0, 15)
    items = [
        Item(name, rng.choice((1, 1, 1, 2, 3)), rng.randint(*unit) * 100 + rng.choice((49, 50, 90, 99)))
        for name in rng.sample(words["food"], rng.randint(3, 8))
    ]
    fields = {
        "store": f"Магазин «{store}»" if language == "ru" else store.upper(),
        "store_address": _address(rng, language),
        "receipt_number": f"{rng.randint(1, 99999):06d}",
        "date": _date(_day(rng, 2023, 2024), language),
        "time": f"{rng.randint(8, 22):02d}:{rng.randint(0, 59):02d}",
        "cashier": rng.choice(words["female"] + words["male"]),
        "total": money(sum(item.amount for item in items), language),
        "payment_method": LABELS[language][rng.choice(("card", "cash"))],
    }
    return Content(fields, items)
