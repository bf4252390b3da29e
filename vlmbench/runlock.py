"""One vlmbench process at a time per run directory: ``RUN_DIR/run.lock``.

The lock is an OS lock (``flock``) on the open lock file, held for as long
as the run lasts. The kernel drops it when the process ends, however it
ends, so the lock of a killed run is simply taken again by the next one.
The file's JSON says who holds it (pid, host, the process's start time,
the command) for the message a second process gets; it is also a second
check where flock does not reach (a filesystem without it, or another
host): a recorded owner that still runs on this host, or runs on another
host, keeps the directory even when flock lets go. The start time and the
boot id tell a dead owner from a new process that was given its pid.

A holder removes the file when it lets go; one left behind by a killed
process is overwritten by the next holder, or removed by ``vlmbench cleanup``.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Self

from vlmbench.errors import RunDirInUseError
from vlmbench.rundir import RunDir

#: errnos of a filesystem that has no flock: the JSON check alone decides there.
NO_FLOCK = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError:
        return None


def boot_id() -> str | None:
    return _read("/proc/sys/kernel/random/boot_id")


def start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (/proc/PID/stat field 22); None if unknown."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return None
    try:  # the command name (field 2) is in parentheses and may hold spaces and parentheses itself
        return int(stat[stat.rindex(")") + 2:].split()[19])
    except (ValueError, IndexError):
        return None


def pid_exists(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def this_host() -> str:
    return socket.gethostname()


@dataclass(frozen=True)
class LockOwner:
    """Who holds (or held) a run directory's lock."""

    pid: int
    host: str
    command: str  # "vlmbench run", "vlmbench evaluate", "vlmbench cleanup"
    started_at: str  # when it took the lock (ISO, with its offset)
    start_ticks: int | None = None
    boot_id: str | None = None
    argv: list[str] = field(default_factory=list)

    @classmethod
    def current(cls, command: str) -> LockOwner:
        pid = os.getpid()
        return cls(pid=pid, host=this_host(), command=command,
                   started_at=datetime.now().astimezone().isoformat(timespec="seconds"),
                   start_ticks=start_ticks(pid), boot_id=boot_id(), argv=list(sys.argv))

    @classmethod
    def parse(cls, text: str | None) -> LockOwner | None:
        try:
            raw = json.loads(text or "")
            return cls(pid=int(raw["pid"]), host=str(raw["host"]), command=str(raw.get("command") or "vlmbench"),
                       started_at=str(raw.get("started_at") or ""), start_ticks=raw.get("start_ticks"),
                       boot_id=raw.get("boot_id"), argv=list(raw.get("argv") or []))
        except (ValueError, KeyError, TypeError):
            return None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False) + "\n"

    @property
    def on_this_host(self) -> bool:
        return self.host == this_host()

    def is_alive(self) -> bool | None:
        """Whether this process still runs; None when it ran on another host (this one cannot tell)."""
        if not self.on_this_host:
            return None
        if self.boot_id and boot_id() and self.boot_id != boot_id():
            return False  # the machine restarted since
        if not pid_exists(self.pid):
            return False
        ticks = start_ticks(self.pid)
        # A different start time: the pid was given to a newer process.
        return self.start_ticks is None or ticks is None or ticks == self.start_ticks

    def describe(self) -> str:
        """``vlmbench run (pid 1234 on host, started 12:03:04)``."""
        return f"{self.command} (pid {self.pid} on {self.host}, started {_when(self.started_at)})"


def _when(iso: str) -> str:
    try:
        moment = datetime.fromisoformat(iso).astimezone()
    except ValueError:
        return iso or "at an unknown time"
    today = datetime.now().astimezone().date()
    return moment.strftime("%H:%M:%S" if moment.date() == today else "%Y-%m-%d %H:%M:%S")


def in_use_message(run_dir: Path, owner: LockOwner | None, *, held: bool, cleaning: bool = False) -> str:
    """One line for a process refused a run directory: who holds it and what to do."""
    cleanup = f"`vlmbench cleanup {run_dir}`"
    if owner is None:
        return f"{run_dir} is in use by another vlmbench process (its lock file {RunDir(run_dir).lock_file} is held)"
    if held and owner.is_alive() is False:
        # The recorded owner is gone but its lock is not: a process it started inherited the lock.
        return (f"{run_dir} is in use: the lock of {owner.describe()}, which is gone, is still held by a "
                f"process it started; stop that process (`fuser -v {RunDir(run_dir).lock_file}` names it)")
    if not owner.on_this_host:
        where = (f"wait for it or stop it; once it is gone, run {cleanup} on {owner.host}, or "
                 f"`vlmbench cleanup --force {run_dir}` here")
        return f"{run_dir} is in use by {owner.describe()}; this host cannot tell whether it still runs: {where}"
    if cleaning:
        return f"{run_dir} is in use by {owner.describe()}; wait for it or stop it, then run cleanup again"
    return f"{run_dir} is in use by {owner.describe()}; wait for it or stop it, or run {cleanup} if it is gone"


class RunLock:
    """The lock of one run directory; a context manager, held from acquire to release."""

    def __init__(self, run_dir: Path | str, command: str = "vlmbench run", *, force: bool = False) -> None:
        self.run_dir = Path(run_dir)
        self.path = RunDir(self.run_dir).lock_file
        self.command = command
        self.force = force  # take over an owner this host cannot see (another host's), never a held flock
        self.stale: LockOwner | None = None  # the earlier owner whose lock this one took over
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> RunLock:
        """Take the lock, or raise RunDirInUseError naming its holder."""
        if self._fd is not None:
            return self
        for _ in range(20):  # another holder may remove the file between our open and our flock
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                taken = self._take(fd)
            except BaseException:
                os.close(fd)
                raise
            if taken:
                return self
            os.close(fd)
        raise RunDirInUseError(in_use_message(self.run_dir, None, held=True, cleaning=self._cleaning))

    @property
    def _cleaning(self) -> bool:
        return self.command.endswith("cleanup")

    def _take(self, fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = LockOwner.parse(_read_fd(fd))
            raise RunDirInUseError(in_use_message(self.run_dir, owner, held=True, cleaning=self._cleaning)) from None
        except OSError as exc:
            if exc.errno not in NO_FLOCK:
                raise
        if not _same_file(fd, self.path):
            return False  # the file we locked was removed by its holder; lock the new one
        previous = LockOwner.parse(_read_fd(fd))
        if previous is not None and not _is_us(previous):
            alive = previous.is_alive()
            # flock let us in, yet the recorded owner runs: flock does not reach it (another host,
            # a filesystem without locks), so its word counts. A dead or replaced owner's lock is stale.
            if alive or (alive is None and not self.force):
                raise RunDirInUseError(in_use_message(self.run_dir, previous, held=False,
                                                      cleaning=self._cleaning))
            self.stale = previous
        data = LockOwner.current(self.command).to_json().encode("utf-8")
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
        os.fsync(fd)
        self._fd = fd
        return True

    def release(self) -> None:
        """Let go, removing the file (while still locked, so nobody locks a file that is going away)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            if _same_file(fd, self.path):
                self.path.unlink(missing_ok=True)
        finally:
            os.close(fd)

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def _read_fd(fd: int) -> str:
    try:
        return os.pread(fd, 64 * 1024, 0).decode("utf-8", errors="replace")
    except OSError:
        return ""


def _same_file(fd: int, path: Path) -> bool:
    try:
        here, there = os.fstat(fd), os.stat(path)
    except FileNotFoundError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _is_us(owner: LockOwner) -> bool:
    return owner.on_this_host and owner.pid == os.getpid() and owner.is_alive() is not False


def read_owner(run_dir: Path | str) -> LockOwner | None:
    """What the lock file of a run directory says (its holder, or a dead one's leftover), without locking."""
    return LockOwner.parse(_read(str(RunDir(run_dir).lock_file)))


@contextmanager
def hold_run_dir(run_dir: Path | str, command: str) -> Iterator[RunLock | None]:
    """Hold a run directory's lock for the block; nothing to hold where the directory is not (yet) there,
    or cannot be written (then nothing can be rewritten in it either)."""
    lock = RunLock(run_dir, command)
    if not lock.run_dir.is_dir():
        yield None
        return
    try:
        lock.acquire()
    except OSError as exc:
        if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise
        yield None
        return
    try:
        yield lock
    finally:
        lock.release()


__all__ = ["LockOwner", "RunLock", "hold_run_dir", "in_use_message", "read_owner", "start_ticks"]
