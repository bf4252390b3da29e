"""A printed page: rows of text cells drawn with PIL, remembered as text, then aged like a scan.

Rows are laid out first and drawn once; each row's text is kept as it is
drawn, so the transcription answer is exactly what is on the page. Fonts
are the DejaVu set matplotlib ships, so no system font is needed.
"""

from __future__ import annotations

import importlib.util
import random
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

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
PHOTO = (300, 400)  # width, height of the photo placeholder of an ID form


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


def _line_height(size: int) -> int:
    return round(size * 1.55)


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
        self.rows.append(Row(list(cells), style or self.style, size, _line_height(size)))

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
        self.rows.append(Row(cells, self.style, self.size, _line_height(self.size), label_x=x))

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
                x = cell.x
                if x is None:  # a key/value row's value: placed after the widest label of its column
                    if row.label_x is None:
                        raise ValueError(f"layout bug: {cell.text!r} has neither x nor a label column")
                    x = value_x[row.label_x]
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


def _draw_photo(draw: ImageDraw.ImageDraw, x: int, y: int) -> None:
    # A pale silhouette, not a face: light enough that OCR binarisation drops it.
    w, h = PHOTO
    draw.rectangle([x, y, x + w, y + h], fill=236, outline=170, width=2)
    draw.ellipse([x + w * 0.3, y + h * 0.15, x + w * 0.7, y + h * 0.5], fill=214)
    draw.chord([x + w * 0.12, y + h * 0.55, x + w * 0.88, y + h * 1.25], 180, 360, fill=214)


def age(image: Image.Image, rng: random.Random) -> Image.Image:
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
