"""Which libraries each command imports: the start-up budget (issue 13) kept by what is never loaded.

Wall-clock figures live in benchmarks/cli_startup.py; here each command runs in a fresh interpreter and
reports the heavy modules it left in sys.modules, so a top-level import that creeps back fails a test on
any machine, however fast.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "configs" / "demo.csv"
# Heavy for a command's start-up; none is needed to show help or a version.
HEAVY = ("torch", "transformers", "numpy", "pandas", "matplotlib", "docker", "requests", "PIL", "pyarrow",
         "jinja2", "sacrebleu", "rich", "pydantic")
NO_DATA_LIBRARIES = ("torch", "transformers", "pandas", "matplotlib", "docker", "requests", "pyarrow", "jinja2",
                     "sacrebleu")

_PROBE = """
import json, sys
sys.argv = ["vlmbench", *json.loads(sys.argv[1])]
from vlmbench.cli.app import app  # main() would end the process before the report below
try:
    app()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print("\\nIMPORTED " + json.dumps({"code": code, "loaded": [m for m in HEAVY if m in sys.modules]}))
"""


def imported_by(*args: str) -> tuple[int, list[str], str]:
    """Run `vlmbench ARGS` in a fresh interpreter: its exit code, the heavy modules it imported, its output."""
    code = _PROBE.replace("HEAVY", repr(HEAVY))
    done = subprocess.run([sys.executable, "-c", code, json.dumps(list(args))], capture_output=True, text=True,
                          cwd=REPO, env={**os.environ, "COLUMNS": "80"}, timeout=300, check=False)
    marker = [line for line in done.stdout.splitlines() if line.startswith("IMPORTED ")]
    assert marker, done.stdout + done.stderr
    result = json.loads(marker[-1].removeprefix("IMPORTED "))
    return result["code"], result["loaded"], done.stdout + done.stderr


@pytest.mark.parametrize("args", [("--help",), ("--version",), ()])
def test_help_and_version_import_no_heavy_library(args):
    code, loaded, output = imported_by(*args)
    assert code in (0, 2), output  # no arguments: the help, with click's usage exit code
    assert loaded == [], f"vlmbench {' '.join(args)} imported {loaded}"


@pytest.mark.parametrize("command", ["run", "validate", "evaluate", "report", "status", "cancel", "list-models",
                                     "pull-images", "build-images", "worker", "export", "cleanup"])
def test_a_commands_help_imports_no_data_library(command):
    code, loaded, output = imported_by(command, "--help")
    assert code == 0, output
    # typer parses the group's options through pydantic; rich draws nothing here but is allowed to.
    assert not set(loaded) - {"pydantic", "rich"}, f"vlmbench {command} --help imported {loaded}"


@pytest.mark.parametrize("args", [("list-models",), ("list-models", "--json"), ("list-models", "--wide")])
def test_list_models_imports_neither_the_docker_sdk_nor_numpy(args):
    code, loaded, output = imported_by(*args)
    assert code == 0, output
    assert not set(loaded) & {*NO_DATA_LIBRARIES, "numpy", "PIL"}, f"vlmbench {' '.join(args)} imported {loaded}"


@pytest.fixture(scope="module")
def demo_datasets() -> None:
    """The demo's bundled datasets, made by another process: making them draws pages with matplotlib."""
    made = subprocess.run([sys.executable, "-m", "vlmbench", "datasets", "make", "synthetic-docs-ru",
                           "synthetic-docs-en", "easy-vqa"], capture_output=True, text=True, timeout=600, check=False)
    assert made.returncode == 0, made.stdout + made.stderr


def test_validate_of_the_demo_imports_no_plotting_table_or_container_library(demo_datasets):
    code, loaded, output = imported_by("validate", str(DEMO))
    assert code == 0, output
    assert not set(loaded) & set(NO_DATA_LIBRARIES), f"vlmbench validate imported {loaded}"
