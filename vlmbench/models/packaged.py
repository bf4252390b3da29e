"""Weights that ship inside the vlmbench package, named `vlmbench:models/NAME`.

They are resolved where the model loads (the worker), so the same catalog
row works on the host and inside an image that has vlmbench installed.
"""

from __future__ import annotations

from importlib import resources

PACKAGED_PREFIX = "vlmbench:"


def resolve_packaged(weights: str | None) -> str | None:
    """A `vlmbench:...` reference as a folder of the installed package; anything else as it is."""
    if not weights or not weights.startswith(PACKAGED_PREFIX):
        return weights
    return str(resources.files("vlmbench") / "data" / weights.removeprefix(PACKAGED_PREFIX))
