"""`vlmbench run` / `validate` as a user drives them: a label fix re-scores without the model; --sample."""

from __future__ import annotations

import csv
import os
import textwrap
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import WORDS, make_text_dataset
from vlmbench.cli.app import app
from vlmbench.datasets import load_dataset, references_changed, selected_samples
from vlmbench.rundir import JobDir

runner = CliRunner()

MODEL = textwrap.dedent('''
    from vlmbench.models.base import VisionLanguageModel

    class CountingModel(VisionLanguageModel):
        """Answers "total" to everything and writes down each load and each batch it answers."""
        max_batch_size = 64

        def __init__(self, weights=None, log="", **params):
            super().__init__(weights, **params)
            self.log = log
            with open(log, "a") as handle:
                handle.write("load\\n")

        def generate(self, requests):
            with open(self.log, "a") as handle:
                handle.write(f"generate {len(requests)}\\n")
            return ["total" for _ in requests]
''')


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")


@pytest.fixture
def counting(tmp_path: Path, monkeypatch) -> tuple[Path, Path]:
    """A catalog naming CountingModel (importable here and in the worker's process), and its call log."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "countingvlm.py").write_text(MODEL)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])))
    catalog = tmp_path / "catalog.csv"
    log = tmp_path / "calls.log"
    catalog.write_text("framework,model_family,model_name,docker_image,python_package,module,class_name,"
                       "params\n"
                       f'count,Count,count-test,,countingvlm,,CountingModel,"{{""log"": ""{log}""}}"\n')
    return catalog, log


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def exact_match(out: Path) -> float:
    with (out / "results.csv").open() as handle:
        rows = csv.DictReader(handle)
        (row,) = [r for r in rows if r["metric"] == "exact_match" and r["aggregator"] == "general"]
    return float(row["value"])


def calls(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


@pytest.mark.integration
@pytest.mark.workers
def test_a_label_fix_rescores_the_same_jobs_without_running_the_model(tmp_path, counting) -> None:
    catalog, log = counting
    data = make_text_dataset(tmp_path / "words", WORDS)
    config = tmp_path / "run.csv"
    config.write_text("model_name,dataset,metrics,metrics_aggregators\n"
                      f"count-test,{data},exact_match,general\n")
    out = tmp_path / "out"
    assert invoke("run", config, "--out", out, "--catalog", catalog).exit_code == 0
    (job_dir,) = (out / "jobs").iterdir()
    assert calls(log) == ["load", f"generate {len(WORDS)}"]
    assert exact_match(out) == pytest.approx(1 / 12)  # the model says "total": right for s1 only
    predictions = (job_dir / "predictions.jsonl").read_text()
    recorded = JobDir(job_dir).read_status().references_fingerprint
    assert recorded and references_changed(recorded, load_dataset(data).samples) is False

    # The annotators fix two labels: s0 and s4 were "total" all along.
    annotation = data / "annotation.csv"
    text = annotation.read_text()
    annotation.write_text(text.replace(";invoice;", ";total;").replace(";amount;", ";total;"))
    result = invoke("run", config, "--out", out, "--catalog", catalog)
    assert result.exit_code == 0, result.output
    assert [d.name for d in (out / "jobs").iterdir()] == [job_dir.name]  # the same job
    assert calls(log) == ["load", f"generate {len(WORDS)}"]  # no model was loaded, nothing was asked
    assert (job_dir / "predictions.jsonl").read_text() == predictions
    assert exact_match(out) == pytest.approx(3 / 12)  # re-scored against the fixed labels
    # The job's status still holds the references its predictions were made against: scoring can say so.
    status = JobDir(job_dir).read_status()
    assert status.references_fingerprint == recorded
    assert references_changed(status.references_fingerprint, load_dataset(data).samples) is True

    # A changed question is a new input: a new job, and the model answers it.
    annotation.write_text(annotation.read_text().replace("What is written?", "Read the word.", 1))
    assert invoke("run", config, "--out", out, "--catalog", catalog).exit_code == 0
    new_dirs = [d for d in (out / "jobs").iterdir() if d.name != job_dir.name]
    assert len(new_dirs) == 1
    assert calls(log) == ["load", f"generate {len(WORDS)}"] * 2
    assert len(JobDir(new_dirs[0]).read_predictions()) == len(WORDS)


@pytest.mark.integration
@pytest.mark.workers
def test_sample_runs_the_stratified_draw_the_plan_and_validate_say(tmp_path, counting) -> None:
    catalog, log = counting
    data = make_text_dataset(tmp_path / "words", WORDS)
    config = tmp_path / "run.csv"
    config.write_text(f"model_name,dataset,metrics\ncount-test,{data},exact_match\n")
    out = tmp_path / "out"
    options = ("--sample", "4", "--seed", "9")
    assert invoke("validate", config, "--catalog", catalog, *options).exit_code == 0
    dry = invoke("run", config, "--out", out, "--catalog", catalog, "--dry-run", *options)
    assert dry.exit_code == 0 and "4 of 12: seeded sample (seed 9), stratified by doc_class" in dry.output
    assert invoke("run", config, "--out", out, "--catalog", catalog, *options).exit_code == 0
    (job_dir,) = (out / "jobs").iterdir()
    spec = JobDir(job_dir).read_spec()
    assert (spec.dataset.sample, spec.dataset.seed) == (4, 9)
    expected = selected_samples(load_dataset(data).samples, spec.dataset)
    predicted = [p.id for p in JobDir(job_dir).read_predictions()]
    assert predicted == [s.id for s in expected]
    assert Counter(int(i[1:]) % 2 for i in predicted) == {0: 2, 1: 2}  # even and odd doc classes alike
    assert calls(log) == ["load", "generate 4"]
    # the same draw again is the same job: nothing runs
    assert invoke("run", config, "--out", out, "--catalog", catalog, *options).exit_code == 0
    assert calls(log) == ["load", "generate 4"]
    # another seed is another job
    assert invoke("run", config, "--out", out, "--catalog", catalog, "--sample", "4").exit_code == 0
    assert len(list((out / "jobs").iterdir())) == 2


@pytest.mark.parametrize(("options", "fragment"), [
    (("--sample", "abc"), "--sample must be a whole number >= 1, got 'abc'"),
    (("--sample", "0"), "--sample must be a whole number >= 1, got '0'"),
    (("--sample", "4", "--seed", "-1"), "--seed must be a whole number >= 0, got '-1'"),
    (("--sample", "13"), "row 1: --sample 13 is more than the 12 samples of dataset words"),
    (("--seed", "2"), "--seed 2 is given but nothing is sampled"),
])
def test_bad_sample_options_are_one_line_in_run_and_validate(tmp_path, options, fragment) -> None:
    data = make_text_dataset(tmp_path / "words", WORDS)
    config = tmp_path / "run.csv"
    config.write_text(f"model_name,dataset\ntesseract-eng,{data}\n")
    for command in ("run", "validate"):
        result = invoke(command, config, *(["--out", tmp_path / "out"] if command == "run" else []), *options)
        assert result.exit_code == 2, result.output
        errors = [line for line in result.output.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and fragment in errors[0], result.output
        assert "Traceback" not in result.output and "╭" not in result.output
        assert not (tmp_path / "out").exists()


def test_a_sample_cell_larger_than_the_dataset_names_its_row_and_column(tmp_path) -> None:
    data = make_text_dataset(tmp_path / "words", WORDS)
    config = tmp_path / "run.csv"
    config.write_text(f"model_name;dataset;sample;seed\n"
                      f"tesseract-eng;{data};4;1\ntesseract-rus;{data};50;1\n")
    for command in ("run", "validate"):
        result = invoke(command, config, *(["--out", tmp_path / "out"] if command == "run" else []))
        assert result.exit_code == 2
        errors = [line for line in result.output.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and f"{config}, row 2, column 'sample': sample 50 is more than" in errors[0]
        assert not (tmp_path / "out").exists()
