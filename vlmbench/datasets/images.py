"""The images of a dataset folder: paths checked never to leave it, and opened as RGB.

Every image path is checked once, on load, never to leave the folder: the
worker may run in a container with only this folder mounted, and a path
that escapes it would read whatever the host has there.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING

from vlmbench.csvfiles import shorten
from vlmbench.datasets.rows import RowError
from vlmbench.errors import DatasetError
from vlmbench.fileio import open_regular, os_reason

if TYPE_CHECKING:
    from PIL import Image


class ImagePathChecker:
    """Checks image paths against the folder, resolving each distinct path once.

    Calling it returns the path relative to the folder, in posix form, or
    raises :class:`RowError` naming ``column``.
    """

    def __init__(self, root: Path, files: dict[str, int]):
        # ``files`` is the folder listing of folder.scan_files, made once per load.
        self.root = root
        self.real_root = root.resolve()
        self.files = files
        self.checked: dict[str, str] = {}

    def __call__(self, raw: str, column: str) -> str:
        if raw not in self.checked:
            try:
                self.checked[raw] = self._check(raw)
            except RowError as exc:
                exc.column = column
                raise
            except (OSError, ValueError, RuntimeError) as exc:  # a NUL byte, a name too long, a link loop
                raise RowError(f"image path {shorten(raw)} cannot be used: {os_reason(exc)}",
                               "image paths are relative to the dataset folder", column) from None
        return self.checked[raw]

    def _check(self, raw: str) -> str:
        if PurePosixPath(raw).is_absolute() or PureWindowsPath(raw).is_absolute():
            raise RowError(
                f"image path {shorten(raw)} is absolute",
                "image paths must be relative to the dataset folder and stay inside it",
            )
        rel = os.path.normpath(raw).replace(os.sep, "/")
        # Fast path: a plain file found by the scan, no link, no "..": inside by construction.
        if rel in self.files and not rel.startswith("../") and not os.path.islink(self.root / rel):
            return rel
        real = (self.root / raw).resolve()
        if not real.is_relative_to(self.real_root):
            raise RowError(
                f"image path {shorten(raw)} leads outside the dataset folder (to {shorten(str(real))})",
                "image paths must stay inside the dataset folder; copy the image into it",
            )
        if not real.is_file():
            if real.exists():  # a FIFO would block the worker, a device never end
                raise RowError(f"image path {shorten(raw)} is not a regular file", "name an image file")
            raise RowError(
                f"image file not found: {self.root / raw}", "image paths are relative to the dataset folder"
            )
        return real.relative_to(self.real_root).as_posix()


def load_image(root: Path, relative: str) -> Image.Image:
    """Open an image of the dataset as RGB, fully read; PIL/OS errors pass through.

    Only a regular file is opened (a FIFO would block, a device never end), and
    an image whose header claims more than PIL's ``MAX_IMAGE_PIXELS`` is refused
    before a pixel is decoded: a decompression bomb fails its sample, not the worker.
    """
    from PIL import Image  # here, so importing vlmbench.datasets does not import PIL

    with open_regular(Path(root) / relative, DatasetError, "image") as handle, Image.open(handle) as image:
        width, height = image.size
        if Image.MAX_IMAGE_PIXELS and width * height > Image.MAX_IMAGE_PIXELS:
            raise DatasetError(f"image {relative!r} claims {width}x{height} pixels, more than the "
                               f"{Image.MAX_IMAGE_PIXELS:,} an image may have (a decompression bomb?)",
                               hint="scale the image down")
        has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        if not has_alpha:
            return image.convert("RGB")
        # A plain convert("RGB") shows whatever colour hides under transparent
        # pixels (often black); a reader of the image sees white paper there.
        rgba = image.convert("RGBA")
    page = Image.new("RGB", rgba.size, "white")
    page.paste(rgba, mask=rgba.getchannel("A"))
    return page
