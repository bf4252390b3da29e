"""What has been verified of each catalog family, and where: the file ``data/verification.json``.

The repository keeps the file; the checks write it. The conformance suite
(tests/docker/test_conformance.py) records a ``cpu`` check when a tiny
model of the family's architecture answered through the row's framework
inside that framework's CPU image, with the versions found there; the GPU
image test records ``image`` when the row's own (GPU) image was built from
the lock its CPU twin uses; ``benchmarks/gpu_check.py`` records ``gpu``
with the device and its figures. Families no tiny model can stand for are
listed with the reason. Nothing here has a timestamp, so rerunning a check
that passes the same way leaves the file unchanged.

`vlmbench list-models` reads it to show, per row, what has been checked.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from vlmbench.catalog import CatalogRow
from vlmbench.fileio import write_atomic

SCHEMA_VERSION = 1
Where = Literal["cpu", "image", "gpu"]
WHERE_ORDER: tuple[str, ...] = ("cpu", "image", "gpu")  # the order list-models names them in


class Check(BaseModel):
    """One catalog family checked one way: a tiny model of `arch` through `framework`'s adapter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    framework: str
    model_family: str
    where: Where
    arch: str  # the tiny architecture that stood for the family
    image: str | None = None  # the image it ran in; None when it ran outside any (the GPU script)
    versions: dict[str, str] = Field(default_factory=dict)  # torch, transformers, vllm, ... found there
    cases: list[str] = Field(default_factory=list)  # what was asked and held: "one image", "batched = one by one"
    device: str | None = None
    figures: dict[str, float] = Field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str, str]:
        return self.framework, self.model_family, self.where, self.arch


class Unchecked(BaseModel):
    """A catalog family no tiny model can check here, and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    framework: str
    model_family: str
    reason: str


class Verification(BaseModel):
    """The whole file: every check that passed and every family that cannot be checked."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = SCHEMA_VERSION
    checks: list[Check] = Field(default_factory=list)
    unchecked: list[Unchecked] = Field(default_factory=list)

    def checks_for(self, row: CatalogRow) -> list[Check]:
        """The checks that stand for catalog row `row` (same framework and family)."""
        return [check for check in self.checks
                if (check.framework, check.model_family) == (row.framework, row.model_family)]

    def reason_unchecked(self, row: CatalogRow) -> str | None:
        return next((item.reason for item in self.unchecked
                     if (item.framework, item.model_family) == (row.framework, row.model_family)), None)


def verification_path() -> Path:
    """The file inside the installed package (in a source checkout: the repository's copy)."""
    return Path(str(resources.files("vlmbench") / "data" / "verification.json"))


def load_verification(path: Path | None = None) -> Verification:
    """The verification file; an empty record when there is none yet."""
    path = path or verification_path()
    if not path.exists():
        return Verification()
    return Verification.model_validate_json(path.read_text(encoding="utf-8"))


def _write(record: Verification, path: Path) -> None:
    checks = sorted(record.checks, key=lambda check: check.key)
    unchecked = sorted(record.unchecked, key=lambda item: (item.framework, item.model_family))
    data = Verification(checks=checks, unchecked=unchecked).model_dump(mode="json")
    write_atomic(path, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def record_check(check: Check, path: Path | None = None) -> None:
    """Add `check`, replacing any earlier one of the same family, framework, place and architecture."""
    path = path or verification_path()
    record = load_verification(path)
    record.checks = [old for old in record.checks if old.key != check.key] + [check]
    _write(record, path)


def forget_checks(framework: str, model_family: str, where: Where, arch: str, path: Path | None = None) -> None:
    """Drop a check before it is run again, so a check that now fails is no longer claimed."""
    path = path or verification_path()
    record = load_verification(path)
    kept = [old for old in record.checks if old.key != (framework, model_family, where, arch)]
    if len(kept) != len(record.checks):
        record.checks = kept
        _write(record, path)


def record_unchecked(reasons: dict[tuple[str, str], str], path: Path | None = None) -> None:
    """Replace the list of families that cannot be checked with `reasons` ((framework, family) -> why)."""
    path = path or verification_path()
    record = load_verification(path)
    record.unchecked = [Unchecked(framework=framework, model_family=family, reason=reason)
                        for (framework, family), reason in reasons.items()]
    _write(record, path)


def verified_label(checks: list[Check]) -> str:
    """What list-models shows for a row: the places it was checked, e.g. ``cpu, gpu``."""
    places = {check.where for check in checks}
    return ", ".join(where for where in WHERE_ORDER if where in places)
