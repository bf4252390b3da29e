"""Every command's help: an example that parses (and runs, where it can offline), placeholders in words,
`--version`. Driven through typer's CliRunner."""

from __future__ import annotations

import json
import re
import shlex
from importlib import metadata
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from vlmbench.catalog import load_catalog
from vlmbench.cli.app import app

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()
# What typer writes for a placeholder it makes from a Python type: `<path>`, `<int range>`, TEXT, INTEGER.
TYPE_PLACEHOLDER = re.compile(r"<[a-z][^>]*>|\b(TEXT|INTEGER|FLOAT|PATH|BOOLEAN)\b")


def leaf_commands() -> list[tuple[str, ...]]:
    """The path of every command that runs something (`("datasets", "make")`, `("run",)`, ...)."""
    paths = []

    def walk(group, prefix: tuple[str, ...]) -> None:
        for name, command in sorted(group.commands.items()):
            if hasattr(command, "commands"):
                walk(command, (*prefix, name))
            else:
                paths.append((*prefix, name))

    walk(typer.main.get_command(app), ())
    return paths


COMMANDS = leaf_commands()


def help_of(path: tuple[str, ...]) -> str:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    return result.output


def examples_of(text: str) -> list[list[str]]:
    return [shlex.split(line.split("Example:", 1)[1]) for line in text.splitlines() if "Example:" in line]


def parse_only(args: list[str]) -> None:
    """Parse `vlmbench ARGS` as the command would, converting every value, without running it."""
    group = typer.main.get_command(app)
    ctx = group.make_context("vlmbench", list(args), resilient_parsing=False)
    command, rest = group, list(args)
    while hasattr(command, "commands"):
        name, command, rest = command.resolve_command(ctx, rest)
        ctx = command.make_context(name, rest, parent=ctx)


def test_every_command_is_covered():
    assert {"run", "validate", "list-models", "status", "worker"} <= {path[-1] for path in COMMANDS}
    assert ("datasets", "import") in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(path) for path in COMMANDS])
def test_each_commands_help_has_an_example_that_parses(path):
    text = help_of(path)
    examples = examples_of(text)
    assert examples, f"`vlmbench {' '.join(path)} --help` shows no example:\n{text}"
    lines = text.splitlines()
    for index, line in enumerate(lines):  # an example folded over two lines at 80 columns reads as two
        if "Example:" in line:
            assert index + 1 == len(lines) or not lines[index + 1].strip(), f"folded: {line!r}"
    for example in examples:
        assert example[0] == "vlmbench" and tuple(example[1:1 + len(path)]) == path, example
        parse_only(example[1:])


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(path) for path in COMMANDS])
def test_placeholders_are_words_not_python_types(path):
    text = help_of(path)
    usage_and_parameters = [line for line in text.splitlines()
                            if line.startswith("Usage:") or line.lstrip().startswith("-")
                            or re.match(r"^  [A-Z_]+\b", line)]
    assert len(usage_and_parameters) >= 2  # the usage line and --help at least
    for line in usage_and_parameters:
        # `  --out DIR   The run directory.`: the name and placeholder come before the two spaces.
        placeholder = line if line.startswith("Usage:") else line.strip().split("  ")[0]
        assert not TYPE_PLACEHOLDER.search(placeholder), f"{' '.join(path)}: {line!r}"


def test_the_help_at_80_columns_names_the_run_options_with_words_and_the_out_default():
    text = help_of(("run",))
    for option in ("--out DIR", "--jobs N", "--limit N", "--gpus LIST", "--timeout SECONDS", "--catalog FILE",
                   "--executor local|docker|slurm"):
        assert option in text, option
    assert "[default: runs/NAME for" in text
    assert all(len(line) <= 80 for line in text.splitlines())


def test_version_is_the_installed_distributions():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"vlmbench {metadata.version('vlmbench')}"


def test_the_list_models_example_runs_and_filters():
    [example] = examples_of(help_of(("list-models",)))
    result = runner.invoke(app, [*example[1:], "--json"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    expected = {(row.model_name, row.framework) for row in load_catalog() if row.framework == "hf"
                and "vqa" in row.tasks}
    assert {(row["model_name"], row["framework"]) for row in listed} == expected and expected


def test_the_datasets_list_example_runs():
    [example] = examples_of(help_of(("datasets", "list")))
    result = runner.invoke(app, example[1:], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "synthetic-docs-en" in result.output


def test_the_validate_example_runs_on_the_demo(monkeypatch):
    [example] = examples_of(help_of(("validate",)))
    monkeypatch.chdir(REPO)  # the example names configs/demo.csv, as a user in a checkout types it
    result = runner.invoke(app, example[1:], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: configs/demo.csv — 4 job(s)")


RUN_DIR_COMMANDS = [("status",), ("evaluate",), ("report",), ("export",), ("cleanup",)]


@pytest.mark.integration
@pytest.mark.workers
def test_the_run_directory_examples_run_on_a_real_run(tmp_path, monkeypatch):
    """The examples name runs/demo: a real (small) run is made there, then each example runs on it."""
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "demo.csv"
    config.write_text("model_name,dataset,limit\nmajority-easy-vqa,easy-vqa,20\n")
    made = runner.invoke(app, ["run", str(config), "--out", "runs/demo"], env={"COLUMNS": "200"})
    assert made.exit_code == 0, made.output
    for path in RUN_DIR_COMMANDS:
        for example in examples_of(help_of(path)):
            result = runner.invoke(app, example[1:], env={"COLUMNS": "200"})
            assert result.exit_code == 0, f"{' '.join(example)}:\n{result.output}"
    assert (tmp_path / "runs" / "demo" / "vlmhyperbench").is_dir()
