"""Synthetic Russian and English documents with exact ground truth.

Invoices, specimen identity forms and receipts are laid out row by row and
rendered with PIL in the DejaVu fonts matplotlib ships (no system font is
needed). Each row is kept as text while it is drawn, so the transcription
answer is exactly what is on the page. Every document draws its data from
its own ``random.Random`` seeded by (seed, language, class, index): the same
arguments give the same bytes on every run with the same Pillow/FreeType.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Literal

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from vlmbench.datasets.loader import ANNOTATION_CSV, CSV_COLUMNS
from vlmbench.fileio import write_atomic

SEED = 20240601
DOC_CLASSES = ("invoice", "passport", "receipt")
LANGUAGES = ("ru", "en")
Language = Literal["ru", "en"]

# fmt: off
# --- word lists: all names, firms and places are invented or common words --------------------------------
WORDS: dict[str, dict[str, list[str]]] = {
    lang: {key: value.split("|") for key, value in table.items()}
    for lang, table in {
        "en": {
            "male": "James|John|Robert|Michael|William|David|Thomas|Daniel|Mark|Paul|Andrew|Peter|"
            "George|Edward",
            "female": "Mary|Linda|Susan|Sarah|Karen|Nancy|Lisa|Emily|Helen|Laura|Anna|Grace|Alice|Julia",
            "surname": "Smith|Johnson|Brown|Miller|Davis|Wilson|Anderson|Taylor|Moore|Martin|Clark|"
            "Lewis|Walker|Hall|Young|King|Wright|Baker|Turner|Parker",
            "city": "Springfield|Riverton|Lakewood|Fairview|Greenville|Bristol|Madison|Salem|Franklin|"
            "Ashland|Oxford|Milton|Dover",
            "street": "Oak Street|Maple Avenue|Cedar Lane|Pine Road|Elm Street|Park Avenue|Hill Road|"
            "Lake Drive|Church Street|Mill Lane|River Road|High Street",
            "firm": "Northwind|Bluefield|Summit|Redwood|Silverline|Brightstone|Harbor|Crescent|"
            "Evergreen|Ironbridge|Meadow|Pioneer",
            "firm_kind": "Trading Ltd|Supplies Inc.|Logistics LLC|Systems Ltd|Consulting LLC|"
            "Industries Inc.",
            "goods": "Office chair|Desk lamp|Printer paper A4|Laptop stand|Wireless mouse|USB-C cable|"
            "Consulting (hour)|Software license|Monitor 24 inch|Keyboard|Toner cartridge|Delivery|"
            "Installation work|Filing cabinet|Whiteboard",
            "food": "Milk 1 l|White bread|Eggs 10 pcs|Butter|Cheddar cheese|Apples 1 kg|Bananas|"
            "Coffee beans|Green tea|Orange juice|Rice 1 kg|Pasta|Tomatoes|Chicken breast|Yogurt|"
            "Dark chocolate|Still water",
            "store": "FreshMart|Green Basket|Corner Grocery|Daily Foods|City Market|Sunny Store",
        },
        "ru": {
            "male": "Александр|Дмитрий|Максим|Сергей|Андрей|Алексей|Иван|Михаил|Николай|Павел|Владимир|"
            "Роман|Олег",
            "female": "Анна|Мария|Елена|Ольга|Наталья|Татьяна|Ирина|Светлана|Екатерина|Юлия|Дарья|"
            "Марина|Вера",
            # male form; the female form adds "а" (Иванов -> Иванова), true of every name here
            "surname": "Иванов|Петров|Смирнов|Кузнецов|Попов|Соколов|Лебедев|Козлов|Новиков|Морозов|"
            "Волков|Васильев|Зайцев|Павлов|Семенов|Голубев|Богданов|Федоров|Михайлов|Тарасов|Белов|"
            "Орлов|Макаров",
            "patronymic": "Александров|Дмитриев|Сергеев|Андреев|Иванов|Михайлов|Николаев|Петров|"
            "Владимиров|Олегов",
            "city": "Москва|Казань|Самара|Пермь|Омск|Томск|Воронеж|Тверь|Ярославль|Калуга|Рязань|Тула|"
            "Смоленск",
            "street": "ул. Ленина|ул. Садовая|ул. Гагарина|пр. Мира|ул. Победы|ул. Советская|"
            "ул. Молодежная|ул. Школьная|ул. Лесная|ул. Набережная|ул. Центральная|ул. Пушкина",
            "firm": "Вектор|Альянс|Северный путь|Техносфера|Горизонт|Меридиан|Стройресурс|Партнер|"
            "Континент|Импульс|Орион|Спектр",
            "firm_kind": "ООО|АО",
            "goods": "Кресло офисное|Лампа настольная|Бумага офисная А4|Подставка для ноутбука|"
            "Мышь беспроводная|Кабель USB-C|Консультация (час)|Лицензия на ПО|Монитор 24 дюйма|"
            "Клавиатура|Картридж для принтера|Доставка|Монтажные работы|Шкаф для документов|"
            "Маркерная доска",
            "food": "Молоко 1 л|Хлеб ржаной|Яйца 10 шт|Масло сливочное|Сыр|Яблоки 1 кг|Бананы|"
            "Кофе в зернах|Чай черный|Сок апельсиновый|Рис 1 кг|Макароны|Помидоры|Куриное филе|Йогурт|"
            "Шоколад|Вода",
            "store": "Березка|Свежий день|Семейный|Колосок|Удача|Центральный",
        },
    }.items()
}

# --- labels printed on the page, and the questions asked about each field -------------------------------
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "invoice": "INVOICE", "invoice_number": "Invoice No.:", "date": "Date:", "due_date": "Due date:",
        "seller": "Seller:", "buyer": "Buyer:", "address": "Address:", "no": "No.", "item": "Description",
        "qty": "Qty", "price": "Unit price", "amount": "Amount", "subtotal": "Subtotal:", "vat": "VAT 20%:",
        "total": "Total due, USD:", "invoice_note": "Please pay by bank transfer before the due date.",
        "country": "REPUBLIC OF SPECIMENIA", "passport": "IDENTITY CARD",
        "specimen": "SPECIMEN - NOT A VALID DOCUMENT", "surname": "Surname:", "given_names": "Given names:",
        "sex": "Sex:", "date_of_birth": "Date of birth:", "place_of_birth": "Place of birth:",
        "document_number": "Document No.:", "date_of_issue": "Date of issue:",
        "date_of_expiry": "Date of expiry:", "authority": "Authority:",
        "fictitious": "All data on this form is fictitious.", "receipt_number": "Receipt No.:",
        "time": "Time:", "cashier": "Cashier:", "receipt_total": "TOTAL:", "payment_method": "Payment:",
        "card": "Card", "cash": "Cash", "thanks": "Thank you for shopping!",
    },
    "ru": {
        "invoice": "СЧЕТ НА ОПЛАТУ", "invoice_number": "Номер счета:", "date": "Дата:",
        "due_date": "Оплатить до:", "seller": "Поставщик:", "buyer": "Покупатель:", "address": "Адрес:",
        "no": "№", "item": "Наименование", "qty": "Кол-во", "price": "Цена", "amount": "Сумма",
        "subtotal": "Итого без НДС:", "vat": "НДС 20%:", "total": "Всего к оплате, руб.:",
        "invoice_note": "Оплата банковским переводом до указанной даты.", "country": "РЕСПУБЛИКА ОБРАЗЦОВ",
        "passport": "УДОСТОВЕРЕНИЕ ЛИЧНОСТИ", "specimen": "ОБРАЗЕЦ - НЕДЕЙСТВИТЕЛЕН", "surname": "Фамилия:",
        "given_names": "Имя:", "patronymic": "Отчество:", "sex": "Пол:", "date_of_birth": "Дата рождения:",
        "place_of_birth": "Место рождения:", "document_number": "Номер документа:",
        "date_of_issue": "Дата выдачи:", "date_of_expiry": "Действителен до:", "authority": "Кем выдан:",
        "fictitious": "Все данные вымышлены.", "receipt_number": "Чек №:", "time": "Время:",
        "cashier": "Кассир:", "receipt_total": "ИТОГО:", "payment_method": "Оплата:", "card": "Картой",
        "cash": "Наличными", "thanks": "Спасибо за покупку!",
    },
}

QUESTIONS: dict[str, dict[str, str]] = {
    "en": {
        "full_text": "Transcribe all text on the document.",
        "fields_json": "Extract the fields of this document as a JSON object with the keys: {keys}.",
        "invoice_number": "What is the invoice number?", "date": "What is the date of the document?",
        "due_date": "What is the payment due date?", "seller": "What is the name of the seller?",
        "seller_address": "What is the seller's address?", "buyer": "What is the name of the buyer?",
        "buyer_address": "What is the buyer's address?", "subtotal": "What is the amount before VAT?",
        "vat": "What is the VAT amount?", "total": "What is the total amount?",
        "surname": "What is the surname of the holder?",
        "given_names": "What are the given names of the holder?", "sex": "What is the sex of the holder?",
        "date_of_birth": "What is the date of birth?", "place_of_birth": "What is the place of birth?",
        "document_number": "What is the document number?", "date_of_issue": "What is the date of issue?",
        "date_of_expiry": "What is the date of expiry?", "authority": "Which authority issued the document?",
        "store": "What is the name of the store?", "store_address": "What is the address of the store?",
        "receipt_number": "What is the receipt number?", "time": "What time is printed on the receipt?",
        "cashier": "What is the name of the cashier?", "payment_method": "How was the purchase paid?",
    },
    "ru": {
        "full_text": "Перепишите весь текст документа.",
        "fields_json": "Извлеките поля документа в виде JSON-объекта с ключами: {keys}.",
        "invoice_number": "Какой номер счета?", "date": "Какая дата указана в документе?",
        "due_date": "До какой даты нужно оплатить счет?", "seller": "Как называется поставщик?",
        "seller_address": "Какой адрес поставщика?", "buyer": "Как называется покупатель?",
        "buyer_address": "Какой адрес покупателя?", "subtotal": "Какова сумма без НДС?",
        "vat": "Какова сумма НДС?", "total": "Какова итоговая сумма?",
        "surname": "Какая фамилия у владельца документа?", "given_names": "Какое имя у владельца документа?",
        "patronymic": "Какое отчество у владельца документа?", "sex": "Какой пол указан в документе?",
        "date_of_birth": "Какая дата рождения указана в документе?",
        "place_of_birth": "Какое место рождения указано в документе?",
        "document_number": "Какой номер документа?", "date_of_issue": "Какая дата выдачи документа?",
        "date_of_expiry": "До какой даты действителен документ?", "authority": "Кем выдан документ?",
        "store": "Как называется магазин?", "store_address": "Какой адрес магазина?",
        "receipt_number": "Какой номер чека?", "time": "Какое время указано в чеке?",
        "cashier": "Как зовут кассира?", "payment_method": "Каким способом оплачена покупка?",
    },
}
# fmt: on

# --- layout: rows of cells, rendered once, remembered as text -------------------------------------------
FONT_FILES = {
    style: f"DejaVu{name}.ttf"
    for style, name in [
        ("sans", "Sans"),
        ("sans-bold", "Sans-Bold"),
        ("serif", "Serif"),
        ("serif-bold", "Serif-Bold"),
        ("mono", "SansMono"),
        ("mono-bold", "SansMono-Bold"),
    ]
}
INK = 25  # near-black, as printer toner is


def font_dir() -> Path:
    """matplotlib's DejaVu folder, found without importing matplotlib (and numpy) just for a path."""
    spec = importlib.util.find_spec("matplotlib")
    for location in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(location) / "mpl-data" / "fonts" / "ttf"
        if (folder / FONT_FILES["sans"]).is_file():
            return folder
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@cache
def _font(style: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_dir() / FONT_FILES[style]), size)


@dataclass
class Cell:
    text: str
    x: int | None  # None: the value column of the key/value rows sharing a label column
    anchor: str = "l"  # which edge of the text sits at x: l, m or r
    style: str | None = None  # None: the row's style
    field: str | None = None  # the ground-truth field this text is the value of


@dataclass
class Row:
    cells: list[Cell]
    style: str
    size: int
    height: int
    label_x: int | None = None
    rule: bool = False
    photo: bool = False


@dataclass
class Page:
    width: int
    style: str
    size: int = 30
    margin: int = 70
    rows: list[Row] = field(default_factory=list)

    def cells(self, *cells: Cell, style: str | None = None, size: int | None = None) -> None:
        size = size or self.size
        self.rows.append(Row(list(cells), style or self.style, size, round(size * 1.55)))

    def text(
        self,
        text: str,
        *,
        align: str = "l",
        style: str | None = None,
        size: int | None = None,
        field: str | None = None,
    ) -> None:
        x = {"l": self.margin, "m": self.width // 2, "r": self.width - self.margin}[align]
        self.cells(Cell(text, x, align, field=field), style=style, size=size)

    def kv(self, label: str, value: str, field: str, label_x: int | None = None) -> None:
        x = self.margin if label_x is None else label_x
        cells = [Cell(label, x, style=f"{self.style.split('-')[0]}-bold"), Cell(value, None, field=field)]
        self.rows.append(Row(cells, self.style, self.size, round(self.size * 1.55), label_x=x))

    def space(self, height: int) -> None:
        self.rows.append(Row([], self.style, 0, height))

    def rule(self) -> None:
        self.rows.append(Row([], self.style, 0, 18, rule=True))

    def photo(self) -> None:
        self.rows.append(Row([], self.style, 0, 0, photo=True))

    def render(self) -> tuple[Image.Image, list[str], dict[str, list[int]]]:
        """Draw the rows; return the page, its text lines in reading order, and each field's box."""
        value_x: dict[int, int] = {}
        for row in self.rows:
            if row.label_x is not None:
                label_width = _font(row.cells[0].style or row.style, row.size).getlength(row.cells[0].text)
                value_x[row.label_x] = max(value_x.get(row.label_x, 0), row.label_x + round(label_width) + 24)
        photo_top = [sum(r.height for r in self.rows[:i]) for i, r in enumerate(self.rows) if r.photo]
        height = self.margin * 2 + max([sum(r.height for r in self.rows)] + [t + PHOTO[1] for t in photo_top])
        image = Image.new("L", (self.width, height), 255)
        draw = ImageDraw.Draw(image)
        lines: list[str] = []
        boxes: dict[str, list[int]] = {}
        y = self.margin
        for row in self.rows:
            if row.rule:
                draw.line(
                    [(self.margin, y + row.height // 2), (self.width - self.margin, y + row.height // 2)],
                    fill=INK,
                    width=2,
                )
            if row.photo:
                _draw_photo(draw, self.margin, y)
            for cell in row.cells:
                x = value_x[row.label_x] if cell.x is None and row.label_x is not None else cell.x
                font = _font(cell.style or row.style, row.size)
                where = ((x, y + round(row.size * 1.15)), cell.text)
                box = draw.textbbox(*where, font=font, anchor=cell.anchor + "s")
                if box[0] < self.margin - 2 or box[2] > self.width - self.margin + 2:
                    raise ValueError(f"layout bug: {cell.text!r} runs past the margin ({box})")
                draw.text(*where, font=font, anchor=cell.anchor + "s", fill=INK)
                if cell.field:
                    boxes[cell.field] = [round(v) for v in box]
            if row.cells:
                lines.append(" ".join(cell.text for cell in row.cells))
            y += row.height
        return image, lines, boxes


PHOTO = (300, 400)  # width, height of the photo placeholder of an ID form


def _draw_photo(draw: ImageDraw.ImageDraw, x: int, y: int) -> None:
    # A pale silhouette, not a face: light enough that OCR binarisation drops it.
    w, h = PHOTO
    draw.rectangle([x, y, x + w, y + h], fill=236, outline=170, width=2)
    draw.ellipse([x + w * 0.3, y + h * 0.15, x + w * 0.7, y + h * 0.5], fill=214)
    draw.chord([x + w * 0.12, y + h * 0.55, x + w * 0.88, y + h * 1.25], 180, 360, fill=214)


def _age(image: Image.Image, rng: random.Random) -> Image.Image:
    """Faint specks, a slight blur and uneven paper tone: like a good scan, still easy to read."""
    w, h = image.size
    draw = ImageDraw.Draw(image)  # specks go on the fresh print, so the blur softens them too
    for _ in range(rng.randint(20, 60)):
        x, y, r = rng.randrange(w), rng.randrange(h), rng.choice((1, 1, 2))
        draw.ellipse([x - r, y - r, x + r, y + r], fill=rng.randint(170, 210))
    cw, ch = w // 80 + 2, h // 80 + 2
    tone = Image.frombytes("L", (cw, ch), bytes(240 + b % 16 for b in rng.randbytes(cw * ch)))
    # Steps of 4 grey levels cannot be seen, but the flat areas they leave make
    # the PNG half the size and twice as quick to write as a smooth tone.
    tone = tone.resize((w, h), Image.Resampling.BICUBIC).point(lambda v: min(255, v // 4 * 4 + 2))
    return ImageChops.multiply(image.filter(ImageFilter.GaussianBlur(0.7)), tone)


# --- documents: fake data, then a page that shows it ----------------------------------------------------
# Not strftime("%b"): a user's locale must not change the documents.
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def _money(cents: int, language: str) -> str:
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


def _invoice(rng: random.Random, language: str) -> tuple[Page, dict[str, str]]:
    words, label = WORDS[language], LABELS[language]
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
        (name, rng.randint(1, 12), rng.randint(*unit) * 100 + rng.choice((0, 50, 99)))
        for name in rng.sample(words["goods"], rng.randint(3, 6))
    ]
    subtotal = sum(qty * price for _, qty, price in items)
    vat = (subtotal * 20 + 50) // 100
    fields |= {
        "subtotal": _money(subtotal, language),
        "vat": _money(vat, language),
        "total": _money(subtotal + vat, language),
    }

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
    for number, (name, qty, price) in enumerate(items, 1):
        page.cells(
            Cell(str(number), 70),
            Cell(name, 140),
            Cell(str(qty), 760, "r"),
            Cell(_money(price, language), 960, "r"),
            Cell(_money(qty * price, language), 1170, "r"),
            size=28,
        )
    page.rule()
    for key in ("subtotal", "vat", "total"):
        page.cells(
            Cell(label[key], 960, "r", style="sans-bold"), Cell(fields[key], 1170, "r", field=key), size=28
        )
    page.space(40)
    page.text(label["invoice_note"], size=26)
    return page, fields


def _passport(rng: random.Random, language: str) -> tuple[Page, dict[str, str]]:
    words, label = WORDS[language], LABELS[language]
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
    fields = {
        **{k: fields[k] for k in ("surname", "given_names", "patronymic", "sex") if k in fields},
        "date_of_birth": _date(_day(rng, 1950, 2004), language, passport=True),
        "place_of_birth": fields["place_of_birth"],
        "document_number": number,
        "date_of_issue": _date(issued, language, passport=True),
        "date_of_expiry": _date(expires, language, passport=True),
        "authority": authority,
    }
    page = Page(1500, "serif")
    page.text(label["country"], align="m", style="serif-bold", size=40)
    page.text(label["passport"], align="m", style="serif-bold", size=40)
    page.text(label["specimen"], align="m", style="sans-bold", size=32)
    page.space(30)
    page.photo()
    for key, value in fields.items():
        page.kv(label[key], value, key, label_x=440)
    page.space(30)
    page.text(label["fictitious"], align="m", size=26)
    return page, fields


def _receipt(rng: random.Random, language: str) -> tuple[Page, dict[str, str]]:
    words, label = WORDS[language], LABELS[language]
    store = rng.choice(words["store"])
    unit = (39, 899) if language == "ru" else (0, 15)
    items = [
        (name, rng.choice((1, 1, 1, 2, 3)), rng.randint(*unit) * 100 + rng.choice((49, 50, 90, 99)))
        for name in rng.sample(words["food"], rng.randint(3, 8))
    ]
    fields = {
        "store": f"Магазин «{store}»" if language == "ru" else store.upper(),
        "store_address": _address(rng, language),
        "receipt_number": f"{rng.randint(1, 99999):06d}",
        "date": _date(_day(rng, 2023, 2024), language),
        "time": f"{rng.randint(8, 22):02d}:{rng.randint(0, 59):02d}",
        "cashier": rng.choice(words["female"] + words["male"]),
        "total": _money(sum(qty * price for _, qty, price in items), language),
        "payment_method": label[rng.choice(("card", "cash"))],
    }
    page = Page(1000, "mono", margin=60)
    page.text(fields["store"], align="m", style="mono-bold", size=36, field="store")
    page.text(fields["store_address"], align="m", size=26, field="store_address")
    page.space(20)
    for key in ("receipt_number", "date", "time", "cashier"):
        page.kv(label[key], fields[key], key)
    page.rule()
    for name, qty, price in items:
        page.cells(
            Cell(name, 60),
            Cell(f"{qty} x {_money(price, language)}", 700, "r"),
            Cell(_money(qty * price, language), 940, "r"),
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
    return page, fields


BUILDERS = {"invoice": _invoice, "passport": _passport, "receipt": _receipt}


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
    page, fields = BUILDERS[doc_class](rng, language)
    image, lines, boxes = page.render()
    return Document(
        f"{language}-{doc_class}-{index + 1:03d}", language, doc_class, _age(image, rng), lines, fields, boxes
    )


def _annotation_rows(doc: Document, image_path: str) -> list[list[str]]:
    questions = QUESTIONS[doc.language]
    base = ["test", image_path]
    rows = [
        [
            f"{doc.doc_id}-full_text",
            *base,
            questions["full_text"],
            doc.text,
            doc.doc_class,
            "full_text",
            "",
            "",
        ]
    ]
    for key, value in doc.fields.items():
        rows.append(
            [
                f"{doc.doc_id}-{key}",
                *base,
                questions[key],
                value,
                doc.doc_class,
                "field",
                json.dumps(doc.boxes[key]),
                key,
            ]
        )
    everything = json.dumps(doc.fields, ensure_ascii=False, separators=(",", ":"))
    question = questions["fields_json"].format(keys=", ".join(doc.fields))
    rows.append(
        [f"{doc.doc_id}-fields_json", *base, question, everything, doc.doc_class, "fields_json", "", ""]
    )
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
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow([*CSV_COLUMNS, "field"])
    total, done, samples = docs_per_class * len(DOC_CLASSES), 0, 0
    for doc_class in DOC_CLASSES:
        for index in range(docs_per_class):
            doc = make_document(language, doc_class, index, seed)
            image_path = f"images/{doc.doc_id}.png"
            doc.image.save(target / image_path, compress_level=6)
            rows = _annotation_rows(doc, image_path)
            writer.writerows(rows)
            done, samples = done + 1, samples + len(rows)
            if progress:
                progress(done, total)
    write_atomic(target / ANNOTATION_CSV, buffer.getvalue())
    return samples
