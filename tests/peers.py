"""The peers' own metric code, for side-by-side tests.

lmms-eval and VLMEvalKit publish the code their leaderboards are computed
with on PyPI. A test fetches the wheel once (``pip download --no-deps``
into a cache folder), reads one module's source out of it and executes it
as a module, with small stand-ins for the peer's package-internal imports
that the metric code does not use (loggers, registries). Nothing of theirs
is installed or committed here; a download failure fails the test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import types
import zipfile
from pathlib import Path
from typing import Any
from unittest import mock

# The published versions the side-by-side tests were written against.
PEER_WHEELS = {
    "lmms-eval": "lmms-eval==0.7.3",
    "vlmevalkit": "ms-vlmeval==0.0.20",  # VLMEvalKit as packaged on PyPI (vlmeval/...)
}
CACHE = Path(os.environ.get("VLMBENCH_PEERS_CACHE", Path.home() / ".cache" / "vlmbench-test-peers"))


def peer_wheel(peer: str) -> Path:
    """The peer's wheel, downloaded on first use."""
    folder = CACHE / peer
    wheels = sorted(folder.glob("*.whl"))
    if not wheels:
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--disable-pip-version-check",
                        PEER_WHEELS[peer], "-d", str(folder)], check=True, timeout=300)
        wheels = sorted(folder.glob("*.whl"))
    return wheels[0]


def peer_source(peer: str, member: str) -> str:
    """The text of one file of the peer's wheel, e.g. ``lmms_eval/api/metrics.py``."""
    with zipfile.ZipFile(peer_wheel(peer)) as wheel:
        return wheel.read(member).decode("utf-8")


def stub_module(name: str, **attributes: Any) -> types.ModuleType:
    """A stand-in module holding ``attributes`` (for imports the tested code never calls)."""
    module = types.ModuleType(name)
    module.__dict__.update(attributes)
    return module


def load_peer_module(peer: str, member: str, stubs: dict[str, types.ModuleType] | None = None,
                     extra_members: tuple[str, ...] = ()) -> types.ModuleType:
    """Execute ``member`` of the peer's wheel as a module.

    ``stubs`` stand in for package-internal modules during the import only.
    ``extra_members`` are executed first, in order, and put in
    ``sys.modules`` under their dotted names, for imports whose real code
    the tested module needs (e.g. a normaliser it calls).
    """
    name = member.removesuffix(".py").replace("/", ".")
    with mock.patch.dict(sys.modules, stubs or {}):
        for extra in extra_members:
            sys.modules[extra.removesuffix(".py").replace("/", ".")] = _exec(peer, extra)
        return _exec(peer, member, name)


def _exec(peer: str, member: str, name: str | None = None) -> types.ModuleType:
    name = name or member.removesuffix(".py").replace("/", ".")
    module = types.ModuleType(name)
    module.__file__ = f"<{peer}>/{member}"
    exec(compile(peer_source(peer, member), module.__file__, "exec"), module.__dict__)  # noqa: S102 - the peer's code, on purpose
    return module
