"""Atomic file writes (a reader never sees half a file), and reading only regular files a user names."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO

from vlmbench.errors import Location, VlmbenchError


def write_atomic(path: Path | str, text: str | bytes) -> None:
    """Write to a temporary file beside ``path``, then rename it over."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8") if isinstance(text, str) else text
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes owner-only files; run files are read by other users (containers, Slurm, colleagues).
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _kind_of(mode: int) -> str | None:
    """What a path is when it is not a regular file: the things that block a reader or never end."""
    kinds = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))
    return next((name for test, name in kinds if test(mode)), None if stat.S_ISREG(mode) else "not a file")


def open_regular(path: Path | str, error: type[VlmbenchError] = VlmbenchError, what: str = "file") -> BinaryIO:
    """Open a file the user named for reading, refusing anything but a regular file.

    A FIFO would block the reader forever and ``/dev/zero`` would never end:
    the file is opened without blocking and checked on its open descriptor,
    so nothing swapped in between a check and the open gets through.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise error(f"{what} not found", location=Location(path)) from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the name
        raise error(f"cannot open {what}: {os_reason(exc)}", location=Location(path)) from None
    kind = _kind_of(os.fstat(fd).st_mode)
    if kind is not None:
        os.close(fd)
        raise error(f"{what} is {kind}, not a regular file", location=Location(path),
                    hint="give a regular file; reading this one could block or never end")
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def read_regular(path: Path | str, error: type[VlmbenchError] = VlmbenchError, what: str = "file",
                 max_bytes: int | None = None) -> bytes:
    """The bytes of a regular file the user named (see :func:`open_regular`), at most ``max_bytes``."""
    with open_regular(path, error, what) as handle:
        data = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
    if max_bytes is not None and len(data) > max_bytes:
        raise error(f"{what} is larger than {max_bytes // 2**20} MiB", location=Location(path),
                    hint=f"a {what} this size is not one vlmbench reads; check the path")
    return data


def expand_user(path: Path | str) -> Path:
    """``~`` and ``~user`` expanded; a user without a home stays as written (then is simply not found)."""
    try:
        return Path(path).expanduser()
    except RuntimeError:  # "Could not determine home directory"
        return Path(path)


def os_reason(exc: BaseException) -> str:
    """An OSError's words without the path it repeats (a path too long to show is the usual cause)."""
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)


def decode_text(data: bytes) -> str:
    """Bytes as ``Path.read_text(encoding="utf-8-sig")`` reads them: a BOM dropped, line ends as ``\\n``.

    A UnicodeDecodeError passes to the caller, who names the file.
    """
    return data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
