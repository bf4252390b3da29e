"""The model catalog (`models.csv`): which class, weights and image run a model.

One row per (model_name, framework). The embedded catalog ships inside the
package; users add rows with ``--catalog FILE`` and plugin packages with an
entry point in the group ``vlmbench.catalogs`` that names a CSV path (or a
function returning one).

VLMHyperBench's models CSV (``vlm_base.csv``) reads as a catalog too: its
framework spellings (``Hugging Face``) name ours (``hf``) wherever a framework
is named, and the columns of its older versions are accepted (see
:mod:`vlmbench.frameworks` and :func:`_vlmhyperbench_package`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from vlmbench.csvfiles import parse_json_object, parse_list, read_csv_table, shorten
from vlmbench.errors import CatalogError, Location, Problem, VlmbenchError
from vlmbench.frameworks import canonical_framework
from vlmbench.suggest import did_you_mean

REQUIRED_COLUMNS = ("framework", "model_family", "model_name", "docker_image", "python_package", "module", "class_name")
CATALOG_ENTRY_POINT_GROUP = "vlmbench.catalogs"
# VLMHyperBench's first models CSV (January 2025) spelled class_name this way.
COLUMN_ALIASES = {"ClassName": "class_name"}
MAX_PROBLEMS = 20  # beyond this a user learns nothing new from more lines
# Where VLMHyperBench's January 2025 scheduler pip-installed a `name:tag` python_package from.
VLMHYPERBENCH_GIT = "git+https://github.com/VLMHyperBenchTeam/{name}.git@{tag}"


class CatalogRow(BaseModel):
    """One model as a framework runs it."""

    model_config = ConfigDict(extra="ignore", frozen=True, protected_namespaces=())

    framework: str = Field(min_length=1)
    model_family: str = ""
    model_name: str = Field(min_length=1)
    docker_image: str = ""
    python_package: str = ""
    module: str = ""
    class_name: str = Field(min_length=1)
    weights: str | None = None
    git_python_package: str | None = None
    gpu_memory_gb: float | None = Field(default=None, ge=0)
    params: dict[str, Any] = Field(default_factory=dict)
    tasks: list[str] = Field(default_factory=list)
    source: str = ""

    @model_validator(mode="before")
    @classmethod
    def _vlmhyperbench_package(cls, values: Any) -> Any:
        """VLMHyperBench's January 2025 rows named a package `repo-name:tag` (`model_qwen2-vl:0.1.0`):
        the import package is the repo name with `_`, installed from their GitHub repo at that tag."""
        package = values.get("python_package") if isinstance(values, dict) else None
        if not isinstance(package, str) or ":" not in package:
            return values
        name, _, tag = (part.strip() for part in package.partition(":"))
        if not name or not tag:
            raise ValueError(f"python_package {shorten(package)}: write a package name, or VLMHyperBench's name:tag")
        values = {**values, "python_package": name}
        if not values.get("git_python_package"):
            values["git_python_package"] = VLMHYPERBENCH_GIT.format(name=name, tag=tag)
        return values

    @field_validator("framework", mode="before")
    @classmethod
    def _our_framework_name(cls, value: Any) -> Any:
        return canonical_framework(value) if isinstance(value, str) else value

    @field_validator("weights", "git_python_package", "gpu_memory_gb", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("params", mode="before")
    @classmethod
    def _params_json(cls, value: Any) -> Any:
        return parse_json_object(value)

    @field_validator("tasks", mode="before")
    @classmethod
    def _tasks_list(cls, value: Any) -> Any:
        return parse_list(value) if isinstance(value, str) else value

    @property
    def class_path(self) -> str:
        """`package.module:Class`, or a bare registered name when no package is given."""
        if not self.python_package:
            return self.class_name
        package = self.python_package.replace("-", "_")
        module = f"{package}.{self.module}" if self.module else package
        return f"{module}:{self.class_name}"


class Catalog:
    """Rows by (model_name, framework), in the order they were read."""

    def __init__(self, rows: Iterable[CatalogRow] = ()):
        self._rows: dict[tuple[str, str], CatalogRow] = {}
        for row in rows:
            self._rows[(row.model_name, row.framework)] = row  # later catalogs override

    def __iter__(self):
        return iter(self._rows.values())

    def __len__(self) -> int:
        return len(self._rows)

    def names(self) -> list[str]:
        return sorted({name for name, _ in self._rows})

    def frameworks(self, model_name: str) -> list[str]:
        return [framework for name, framework in self._rows if name == model_name]

    def find(self, model_name: str, framework: str | None = None) -> CatalogRow | None:
        if framework:
            return self._rows.get((model_name, canonical_framework(framework)))
        # Without a framework the first row listed for the model is its default.
        return next((row for (name, _), row in self._rows.items() if name == model_name), None)

    def get(self, model_name: str, framework: str | None = None) -> CatalogRow:
        row = self.find(model_name, framework)
        if row is not None:
            return row
        if framework and self.frameworks(model_name):
            raise CatalogError(
                f"model {model_name!r} has no {framework!r} framework in the catalog",
                hint=f"known frameworks for it: {', '.join(self.frameworks(model_name))}",
            )
        raise CatalogError(f"unknown model {model_name!r}", hint=suggest_model(model_name, self.names()))


def suggest_model(name: str, known: Sequence[str]) -> str:
    return did_you_mean(name, known, cutoff=0.5) or "see `vlmbench list-models`"


def read_catalog_file(path: Path) -> list[CatalogRow]:
    table = read_csv_table(path, CatalogError)
    spelled = {COLUMN_ALIASES.get(name, name): name for name in table.header}  # our name -> the file's
    missing = [column for column in REQUIRED_COLUMNS if column not in spelled]
    if missing:
        raise CatalogError(
            f"missing column(s) {', '.join(missing)}",
            location=Location(path, 0),
            hint=f"a catalog needs: {', '.join(REQUIRED_COLUMNS)}",
        )
    rows: list[CatalogRow] = []
    problems: list[Problem] = []
    seen: dict[tuple[str, str], int] = {}
    for number, cells in table.rows:
        try:
            row = CatalogRow.model_validate({**{COLUMN_ALIASES.get(k, k): v for k, v in cells.items()},
                                             "source": str(path)})
        except ValidationError as exc:
            for err in exc.errors():
                # A row-level check reports no field; the python_package one is the only such check.
                column = spelled.get(str(err["loc"][0]), str(err["loc"][0])) if err["loc"] else "python_package"
                message = ("empty; every row names its framework, model_name and class_name"
                           if err["type"] == "string_too_short" else err["msg"].removeprefix("Value error, "))
                problems.append(Problem(message, Location(path, number, column)))
        else:
            key = (row.model_name, row.framework)
            if key in seen:
                problems.append(Problem(f"duplicate (model_name, framework) {shorten(key)}, first at row "
                                        f"{seen[key]}", Location(path, number, "model_name")))
            seen[key] = number
            rows.append(row)
        if len(problems) >= MAX_PROBLEMS:
            problems.append(Problem(f"stopped after {MAX_PROBLEMS} problems", Location(path)))
            break
    if problems:
        raise CatalogError.from_problems(problems)
    return rows


def embedded_catalog_path() -> Path:
    return Path(str(resources.files("vlmbench") / "data" / "models.csv"))


_warned: set[str] = set()  # plugin problems already said in this process


def warn_once(key: str, text: str) -> None:
    """One ``warning:`` line on stderr per broken plugin and process: it is left out, the rest works."""
    if key not in _warned:
        _warned.add(key)
        print(f"warning: {text}", file=sys.stderr, flush=True)


def plugin_entry_points(group: str) -> list[metadata.EntryPoint]:
    """The entry points of ``group``; installed metadata Python cannot read is one warning, not a crash."""
    try:
        return list(metadata.entry_points(group=group))
    except Exception as exc:  # noqa: BLE001 - a broken install must not stop every command
        warn_once(f"{group}:*", f"cannot read the installed {group} entry points ({exc}); plugins are left out")
        return []


def _plugin_catalog_rows() -> list[CatalogRow]:
    """Rows of every plugin catalog; a plugin that fails to import or to read is one warning and left out."""
    rows: list[CatalogRow] = []
    for entry in plugin_entry_points(CATALOG_ENTRY_POINT_GROUP):
        try:
            target = entry.load()
            rows += read_catalog_file(Path(target() if callable(target) else target))
        except Exception as exc:  # noqa: BLE001 - any failure of a plugin's code or file is the plugin's
            reason = "; ".join(exc.lines()) if isinstance(exc, VlmbenchError) else f"{type(exc).__name__}: {exc}"
            warn_once(f"{CATALOG_ENTRY_POINT_GROUP}:{entry.name}:{entry.value}",
                      f"plugin catalog {entry.name!r} ({entry.value}, entry point group "
                      f"{CATALOG_ENTRY_POINT_GROUP}) is left out: {reason}")
    return rows


def load_catalog(extra: Sequence[Path] = (), include_plugins: bool = True) -> Catalog:
    """The embedded catalog, then plugin catalogs, then the user's files."""
    rows: list[CatalogRow] = read_catalog_file(embedded_catalog_path())
    if include_plugins:
        rows += _plugin_catalog_rows()
    for path in extra:
        rows += read_catalog_file(Path(path))
    return Catalog(rows)


# `list-models` filters: the option, and the values a row offers for it.
_ROW_FILTERS: tuple[tuple[str, Callable[[CatalogRow], Sequence[str]]], ...] = (
    ("--framework", lambda row: [row.framework]),
    ("--family", lambda row: [row.model_family]),
    ("--task", lambda row: row.tasks),
)


def filter_rows(rows: Iterable[CatalogRow], *, framework: str | None = None, family: str | None = None,
                task: str | None = None) -> list[CatalogRow]:
    """The rows that match every filter given, compared without regard to case (a framework in any spelling
    :func:`canonical_framework` knows).

    A filter that leaves no row is one CatalogError naming the values it could take among the rows the
    filters before it left: a typo costs one more try, not a silent empty list.
    """
    kept = list(rows)
    applied: list[str] = []
    for (option, values_of), wanted in zip(_ROW_FILTERS, (framework, family, task), strict=True):
        if wanted is None:
            continue
        key = (canonical_framework(wanted) if option == "--framework" else wanted).strip().casefold()
        matched = [row for row in kept if key in {value.casefold() for value in values_of(row)}]
        if not matched:
            valid = sorted({value for row in kept for value in values_of(row) if value}, key=str.casefold)
            among = f" among the models with {', '.join(applied)}" if applied else ""
            raise CatalogError(f"{option} {shorten(wanted)} matches no model{among}",
                               hint=f"valid: {', '.join(valid)}" if valid else "the catalog lists no model")
        kept = matched
        applied.append(f"{option} {wanted}")
    return kept
