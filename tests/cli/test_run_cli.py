"""The documented commands, driven through typer's CliRunner."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import WORDS, make_text_dataset, write_echo_catalog
from vlmbench.cli.app import app
from vlmbench.environment import environment_versions

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.integration
@pytest.mark.tesseract
@pytest.mark.workers
def test_run_end_to_end_writes_the_spec_layout(tmp_path, text_dataset):
    config = write_config(tmp_path, (
        "model_name;dataset;metrics;metrics_aggregators;params\n"
        f"tesseract-eng;{text_dataset};['CER', 'exact_match'];['general', 'by_doc_type'];{{\"psm\": \"line\"}}\n"
        f"echo-test;{text_dataset};['exact_match'];;\n"))
    catalog = write_echo_catalog(tmp_path / "extra.csv")
    out = tmp_path / "out"
    result = invoke("run", config, "--out", out, "--jobs", "2", "--catalog", catalog)
    assert result.exit_code == 0, result.output
    jobs = json.loads((out / "run.json").read_text())["jobs"]
    assert [job["environment"] for job in jobs] == [environment_versions().model_dump()] * len(jobs)
    for name in ("run.json", "results.csv", "report.md", "report.html"):
        assert (out / name).is_file(), name
    job_dirs = sorted((out / "jobs").iterdir())
    assert len(job_dirs) == 2
    for job_dir in job_dirs:
        for name in ("job.json", "status.json", "predictions.jsonl", "metrics.json", "worker.log"):
            assert (job_dir / name).is_file(), f"{job_dir.name}/{name}"
        assert json.loads((job_dir / "status.json").read_text())["state"] == "done"
    results = (out / "results.csv").read_text()
    assert "tesseract-eng" in results and "by_doc_type" in results and "odd" in results
    assert "CER" in result.output or "cer" in result.output

    # A rerun finds every job done and changes no prediction.
    before = {d.name: (d / "predictions.jsonl").read_text() for d in job_dirs}
    again = invoke("run", config, "--out", out, "--catalog", catalog)
    assert again.exit_code == 0
    assert {d.name: (d / "predictions.jsonl").read_text() for d in job_dirs} == before


def test_dry_run_prints_the_plan_and_creates_nothing(tmp_path, text_dataset):
    config = write_config(tmp_path, f"model_name,dataset,gpus\ntesseract-rus,{text_dataset},0\n")
    result = invoke("run", config, "--out", tmp_path / "out", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "vlmbench.models.tesseract:TesseractOCR" in result.output
    assert not (tmp_path / "out").exists()


def test_a_failing_job_does_not_stop_the_others(tmp_path, text_dataset):
    catalog = tmp_path / "extra.csv"
    catalog.write_text("framework,model_family,model_name,docker_image,python_package,module,class_name,weights\n"
                       "echo,Echo,echo-test,,,,echo,\n"
                       "tesseract,T,broken-ocr,,,,tesseract,/nowhere/tessdata\n")
    config = write_config(tmp_path, f"model_name,dataset\nbroken-ocr,{text_dataset}\necho-test,{text_dataset}\n")
    out = tmp_path / "out"
    result = invoke("run", config, "--out", out, "--catalog", catalog)
    assert result.exit_code == 1, result.output
    states = sorted(json.loads((d / "status.json").read_text())["state"] for d in (out / "jobs").iterdir())
    assert states == ["done", "failed"]
    failed = next(json.loads((d / "status.json").read_text()) for d in (out / "jobs").iterdir()
                  if json.loads((d / "status.json").read_text())["state"] == "failed")
    assert "language data" in failed["error"] and "/nowhere/tessdata" in failed["error"]
    assert (out / "results.csv").is_file()


@pytest.mark.parametrize(("csv_text", "expected"), [
    ("model_name,dataset\nno-such-model,{data}\n", ["row 1", "'model_name'", "unknown model 'no-such-model'"]),
    ("model_name,dataset\ntesseract-eng,/no/such/folder\n", ["row 1", "'dataset'", "/no/such/folder"]),
    ("model_name,dataset\ntesseract-eng,{data},extra\n", ["row 1", "3 cells but the header has 2"]),
    ("model_name,dataset,metrics\ntesseract-eng,{data},['CERR']\n", ["row 1", "'metrics'", "CER"]),
    ("model_name,dataset,metrics_aggregators\ntesseract-eng,{data},by_planet\n", ["row 1", "'metrics_aggregators'"]),
])
def test_bad_input_gives_one_line_per_problem_exit_2_and_no_run_dir(tmp_path, text_dataset, csv_text, expected):
    config = write_config(tmp_path, csv_text.format(data=text_dataset))
    for command in ("run", "validate"):
        result = invoke(command, config, *(["--out", tmp_path / "out"] if command == "run" else []))
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        error_lines = [line for line in result.output.splitlines() if line.startswith("error:")]
        assert len(error_lines) == 1, result.output
        for fragment in expected:
            assert fragment in error_lines[0]
        assert str(config) in error_lines[0]
        assert not (tmp_path / "out").exists()


def test_bad_image_path_in_dataset_is_named(tmp_path):
    dataset = make_text_dataset(tmp_path / "d", WORDS[:3])
    annotation = dataset / "annotation.csv"
    annotation.write_text(annotation.read_text().replace("images/1.png", "../../etc/passwd"))
    config = write_config(tmp_path, f"model_name,dataset\ntesseract-eng,{dataset}\n")
    result = invoke("run", config, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "annotation.csv" in result.output and "image_path" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_several_problems_are_all_listed(tmp_path, text_dataset):
    config = write_config(tmp_path, f"model_name,dataset\nnope-1,{text_dataset}\ntesseract-eng,/missing\n")
    result = invoke("validate", config)
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 2 and "row 1" in errors[0] and "row 2" in errors[1]


def test_validate_ok(tmp_path, text_dataset):
    config = write_config(tmp_path, f"model_name,dataset\ntesseract-eng,{text_dataset}\n")
    result = invoke("validate", config)
    assert result.exit_code == 0 and "ok" in result.output


def test_list_models_table_filters_and_json():
    table = invoke("list-models", "--framework", "tesseract")
    assert table.exit_code == 0 and "tesseract-rus-eng" in table.output
    data = json.loads(invoke("list-models", "--json", "--family", "tesseract").output)
    assert {row["model_name"] for row in data} >= {"tesseract-eng", "tesseract-rus", "tesseract-rus-eng"}
    nothing = invoke("list-models", "--json", "--framework", "nope")
    assert nothing.exit_code == 2 and "--framework 'nope' matches no model" in nothing.output


def test_evaluate_and_report_need_a_run_dir(tmp_path):
    result = invoke("evaluate", tmp_path)
    assert result.exit_code == 2 and "not a run directory" in result.output


def test_only_evaluate_metrics_rescores_saved_predictions_and_needs_them(tmp_path, text_dataset):
    catalog = write_echo_catalog(tmp_path / "extra.csv")
    first = write_config(tmp_path, f"model_name,dataset,only_evaluate_metrics\necho-test,{text_dataset},true\n")
    for command in ("validate", "run"):  # the two agree
        result = invoke(command, first, "--out", tmp_path / "out", "--catalog", catalog)
        assert result.exit_code == 2 and "'only_evaluate_metrics'" in result.output
        assert "no predictions" in result.output
    assert not (tmp_path / "out").exists()
    plain = tmp_path / "plain.csv"
    plain.write_text(f"model_name,dataset\necho-test,{text_dataset}\n")
    assert invoke("run", plain, "--out", tmp_path / "out", "--catalog", catalog).exit_code == 0
    assert invoke("validate", first, "--out", tmp_path / "out", "--catalog", catalog).exit_code == 0
    again = invoke("run", first, "--out", tmp_path / "out", "--catalog", catalog)
    assert again.exit_code == 0, again.output


@pytest.mark.integration
@pytest.mark.workers
def test_a_model_failing_most_samples_fails_its_job_unless_the_user_allows_more(tmp_path):
    dataset = make_text_dataset(tmp_path / "d", WORDS[:5], corrupt={0, 1, 2})  # 3 of 5 images undecodable
    catalog = write_echo_catalog(tmp_path / "extra.csv")
    config = write_config(tmp_path, f"model_name,dataset,metrics\necho-test,{dataset},exact_match\n")
    out = tmp_path / "out"
    result = invoke("run", config, "--out", out, "--catalog", catalog)
    assert result.exit_code == 1, result.output
    assert "3 of 5 samples failed (more than 50% allowed); first: image decode failed" in result.output
    (job_dir,) = (out / "jobs").iterdir()
    assert json.loads((job_dir / "status.json").read_text())["state"] == "failed"
    rows = json.loads((job_dir / "metrics.json").read_text())["rows"]
    general = next(r for r in rows if r["aggregator"] == "general")
    assert (general["n"], general["n_errors"], general["n_total"]) == (2, 3, 5)  # the answers it gave still count

    result = invoke("run", config, "--out", out, "--catalog", catalog, "--max-error-rate", "0.6")
    assert result.exit_code == 0, result.output
    assert json.loads((job_dir / "status.json").read_text())["state"] == "done"


@pytest.mark.integration
@pytest.mark.workers
def test_a_corrected_label_is_rescored_without_rerunning_the_model(tmp_path):
    dataset = make_text_dataset(tmp_path / "d", WORDS[:4])
    catalog = write_echo_catalog(tmp_path / "extra.csv", answer="total")
    config = write_config(tmp_path, f"model_name,dataset,metrics\necho-test,{dataset},exact_match\n")
    out = tmp_path / "out"
    assert invoke("run", config, "--out", out, "--catalog", catalog).exit_code == 0
    (job_dir,) = (out / "jobs").iterdir()
    predictions = (job_dir / "predictions.jsonl").read_bytes()

    def general() -> float:
        rows = json.loads((job_dir / "metrics.json").read_text())["rows"]
        return next(r["value"] for r in rows if r["aggregator"] == "general")

    assert general() == 0.25  # only s1 is "total"
    annotation = dataset / "annotation.csv"
    annotation.write_text(annotation.read_text().replace(";invoice;", ";total;"))  # relabel s0
    result = invoke("evaluate", out)
    assert result.exit_code == 0, result.output
    assert "references changed since its predictions were made; rescored, no model rerun" in result.output
    assert general() == 0.5
    assert (job_dir / "predictions.jsonl").read_bytes() == predictions
    # a rerun keeps the job (its inputs did not change) and says the same
    result = invoke("run", config, "--out", out, "--catalog", catalog)
    assert result.exit_code == 0 and "rescored, no model rerun" in result.output
    assert (job_dir / "predictions.jsonl").read_bytes() == predictions


@pytest.mark.integration
@pytest.mark.workers
def test_scores_split_by_an_annotation_column_the_user_added(tmp_path):
    from vlmbench.rundir.results_csv import read_results_csv

    dataset = make_text_dataset(tmp_path / "d", WORDS[:8])
    annotation = dataset / "annotation.csv"
    lines = annotation.read_text().splitlines()
    langs = ["ru", "en", "ru", "en", "ru", "ru", "en", "ru"]
    annotation.write_text("\n".join([lines[0] + ";lang"] + [f"{line};{lang}" for line, lang in zip(lines[1:], langs)])
                          + "\n")
    catalog = write_echo_catalog(tmp_path / "extra.csv", answer="total")  # right on s1 only (en)
    config = write_config(tmp_path, f"model_name;dataset;metrics;metrics_aggregators\n"
                                    f"echo-test;{dataset};['exact_match'];['general', 'by_lang']\n")
    result = invoke("run", config, "--out", tmp_path / "out", "--catalog", catalog)
    assert result.exit_code == 0, result.output
    rows = {r.group: r for r in read_results_csv(tmp_path / "out" / "results.csv") if r.aggregator == "by_lang"}
    assert set(rows) == {"ru", "en"}
    assert (rows["en"].n, rows["en"].value) == (3, pytest.approx(1 / 3))
    assert (rows["ru"].n, rows["ru"].value) == (5, 0.0)
    assert rows["en"].ci_low <= rows["en"].value <= rows["en"].ci_high

    misspelt = write_config(tmp_path, f"model_name;dataset;metrics_aggregators\necho-test;{dataset};['by_lagn']\n")
    result = invoke("validate", misspelt, "--catalog", catalog)
    assert result.exit_code == 2 and "'metrics_aggregators'" in result.output and "lang" in result.output
