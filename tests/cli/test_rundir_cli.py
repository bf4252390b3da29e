"""A run directory's files damaged or foreign: evaluate, report, export and run say which file, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import WORDS, make_text_dataset, write_echo_catalog
from vlmbench.cli.app import app
from vlmbench.rundir import RunDir

runner = CliRunner()


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    """A small real run (echo model over a bundled-style text dataset), copied by each test that damages it."""
    root = tmp_path_factory.mktemp("rundir")
    dataset = make_text_dataset(root / "data", WORDS[:4])
    config = root / "run.csv"
    config.write_text(f"model_name,dataset,metrics\necho-test,{dataset},['exact_match']\n", encoding="utf-8")
    catalog = write_echo_catalog(root / "extra.csv")
    out = root / "out"
    result = runner.invoke(app, ["run", str(config), "--out", str(out), "--catalog", str(catalog)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def run_dir(finished_run, tmp_path) -> Path:
    import shutil

    copy = tmp_path / "out"
    shutil.copytree(finished_run, copy)
    return copy


def one_line_error(result, path: Path) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert any(str(path) in line for line in lines), result.output
    return result.output


@pytest.mark.integration
@pytest.mark.workers
@pytest.mark.parametrize("command", ["evaluate", "report", "export"])
def test_a_damaged_run_json_is_named_by_every_reader(run_dir, command):
    path = RunDir(run_dir).record_file
    path.write_text(path.read_text()[:40])
    args = [command, str(run_dir)] + (["--format", "vlmhyperbench"] if command == "export" else [])
    assert "not valid JSON" in one_line_error(runner.invoke(app, args), path)


@pytest.mark.integration
@pytest.mark.workers
def test_a_foreign_run_json_is_not_read_as_a_run(run_dir):
    path = RunDir(run_dir).record_file
    path.write_text(json.dumps({"name": "some other tool's run", "jobs": []}))
    assert "not a vlmbench run record" in one_line_error(runner.invoke(app, ["evaluate", str(run_dir)]), path)


@pytest.mark.integration
@pytest.mark.workers
def test_a_corrupt_status_is_named_not_taken_for_a_pending_job(run_dir):
    (job,) = RunDir(run_dir).job_dirs()
    job.status_file.write_text('{"state": "half-done"}')
    output = one_line_error(runner.invoke(app, ["evaluate", str(run_dir)]), job.status_file)
    assert "state" in output


@pytest.mark.integration
@pytest.mark.workers
def test_an_edited_prediction_line_is_named_with_its_line(run_dir):
    (job,) = RunDir(run_dir).job_dirs()
    lines = job.predictions_file.read_text().splitlines(keepends=True)
    lines[1] = '{"id": 3}\n'
    job.predictions_file.write_text("".join(lines))
    one_line_error(runner.invoke(app, ["report", str(run_dir)]), job.predictions_file)
