"""The user's run CSV: one row per job, validated cell by cell.

Every problem is collected (not just the first) with its row and column,
so `vlmbench validate` can show them all at once.
"""

from __future__ import annotations

import math
import os
import shlex
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from vlmbench.csvfiles import parse_json_object, parse_list, read_csv_table, shorten
from vlmbench.dataroot import data_root as root_of
from vlmbench.errors import ConfigError, Location, Problem
from vlmbench.shards import MAX_SHARDS

REQUIRED_COLUMNS = ("model_name", "dataset")
MAX_PROBLEMS = 20  # beyond this a user learns nothing new from more lines
LIST_COLUMNS = ("metrics", "metrics_aggregators", "filter_doc_class", "filter_question_type", "gpus")
# Free-text values (a question type may hold a comma): a bare cell is one value, as VLMHyperBench reads it.
TEXT_LIST_COLUMNS = ("filter_doc_class", "filter_question_type")
TRUE_WORDS = {"1", "true", "yes", "y", "on"}
FALSE_WORDS = {"0", "false", "no", "n", "off", ""}


class RunRow(BaseModel):
    """One job as the user asked for it, before the catalog is consulted."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    row: int
    model_name: str = Field(min_length=1)
    dataset: str = Field(min_length=1)
    task: str | None = None
    framework: str | None = None
    # VLMHyperBench's first run CSVs named the family; checked against the catalog row.
    model_family: str | None = None
    docker_image: str | None = None
    prompt: str | None = None
    prompt_collection: str | None = None
    system_prompt: str | None = None
    metrics: list[str] = Field(default_factory=list)
    metrics_aggregators: list[str] = Field(default_factory=list)
    batch_size: int | None = Field(default=None, ge=1, le=4096)
    max_new_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0.0)
    limit: int | None = Field(default=None, ge=1)
    sample: int | None = Field(default=None, ge=1)  # a seeded sample of N, stratified by doc_class
    seed: int | None = Field(default=None, ge=0)  # the sample's seed (0 when blank)
    gpus: list[str] = Field(default_factory=list)
    shards: int | None = Field(default=None, ge=1, le=MAX_SHARDS)  # workers side by side (vlmbench.shards)
    filter_doc_class: list[str] = Field(default_factory=list)
    filter_question_type: list[str] = Field(default_factory=list)
    params: dict[str, Any] = Field(default_factory=dict)
    only_evaluate_metrics: bool = False

    @field_validator("params", mode="before")
    @classmethod
    def _params(cls, value: Any) -> Any:
        return parse_json_object(value, '{"lang": "rus"}')

    @field_validator("only_evaluate_metrics", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> Any:
        if isinstance(value, str):
            word = value.strip().lower()
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
            raise ValueError("must be true or false")
        return value

    @field_validator("prompt")
    @classmethod
    def _prompt_has_question(cls, value: str | None) -> str | None:
        if value is not None and "{question}" not in value:
            raise ValueError("a prompt template must contain {question}, e.g. 'Answer briefly: {question}'")
        return value


class RunConfig(BaseModel):
    path: Path
    rows: list[RunRow]
    # Where bare dataset, prompt collection and system prompt names are looked up (vlmbench.dataroot).
    data_root: Path | None = None


def _cells_to_fields(cells: dict[str, str], number: int, path: Path, problems: list[Problem]) -> dict[str, Any]:
    fields: dict[str, Any] = {"row": number}
    for column, cell in cells.items():
        if not column or cell == "":
            continue
        if column in LIST_COLUMNS:
            try:
                fields[column] = parse_list(cell, commas=column not in TEXT_LIST_COLUMNS)
            except ValueError as exc:
                problems.append(Problem(str(exc), Location(path, number, column), "write ['A', 'B'] or A|B"))
        else:
            fields[column] = cell
    return fields


def read_run_config(path: Path, data_root: Path | None = None) -> RunConfig:
    """Parse and check the shape of a run CSV; raises ConfigError with every problem.

    ``data_root`` (else ``$VLMBENCH_DATA_ROOT``) is where names in the CSV are looked up.
    """
    path = Path(path)
    table = read_csv_table(path, ConfigError)
    problems: list[Problem] = []
    known = set(RunRow.model_fields) - {"row"}
    unknown = [column for column in table.header if column and column not in known]
    for column in unknown[:MAX_PROBLEMS]:
        problems.append(Problem(f"unknown column {shorten(column)}", Location(path, 0, shorten(column, 40)),
                                "known columns: " + ", ".join(sorted(known))))
    if len(unknown) > MAX_PROBLEMS:
        problems.append(Problem(f"{len(unknown) - MAX_PROBLEMS:,} more unknown columns", Location(path, 0)))
    missing = [c for c in REQUIRED_COLUMNS if c not in table.header]
    if missing:
        problems.append(Problem(f"missing required column(s) {', '.join(missing)}", Location(path, 0)))
    if problems:
        raise ConfigError.from_problems(problems)
    if not table.rows:
        raise ConfigError("no jobs: the file has a header but no rows", location=Location(path))
    rows: list[RunRow] = []
    for number, cells in table.rows:
        row_problems: list[Problem] = []
        fields = _cells_to_fields({k: v for k, v in cells.items() if k in known}, number, path, row_problems)
        try:
            rows.append(RunRow.model_validate(fields))
        except ValidationError as exc:
            for err in exc.errors():
                column = str(err["loc"][0]) if err["loc"] else None
                message = err["msg"].removeprefix("Value error, ")
                if err["type"] == "missing":
                    message = "required cell is empty"
                row_problems.append(Problem(message, Location(path, number, column)))
        problems += row_problems
        if len(problems) >= MAX_PROBLEMS:  # a thousand bad rows teach no more than twenty
            problems.append(Problem(f"stopped after {MAX_PROBLEMS} problems", Location(path)))
            break
    if problems:
        raise ConfigError.from_problems(problems)
    return RunConfig(path=path, rows=rows, data_root=root_of(data_root))


def env_number(name: str, kind: type[int | float] = float, minimum: float = 0) -> int | float | None:
    """The number an environment variable holds; None when unset or blank, anything else a ConfigError."""
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value < minimum:
        raise ConfigError(f"${name} is {shorten(text)}, not a {'whole ' if kind is int else ''}number >= "
                          f"{minimum:g}", hint=f"set it to a number, or unset it: unset {name}")
    return value


def env_words(name: str) -> list[str]:
    """An environment variable split as a shell would split it (quotes kept together), never run by one."""
    try:
        return shlex.split(os.environ.get(name, ""))
    except ValueError as exc:  # "No closing quotation"
        raise ConfigError(f"${name} cannot be split into arguments: {exc}",
                          hint="close every quote, e.g. --comment='two words'") from None
