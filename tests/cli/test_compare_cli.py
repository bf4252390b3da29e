"""`vlmbench compare` on real runs: the shipped easy-VQA model, the majority baseline and fixed answers.

One run holds the trained model and two baselines on the same 120 easy-VQA
questions: the model beats the majority answer by far (significant), and
the majority answer ("yes") and a constant "no" are about as bad as each
other (not significant). A second run, made later, scores the same
questions; a third asks for fewer and is refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vlmbench.cli.app import app

pytestmark = [pytest.mark.integration, pytest.mark.transformers, pytest.mark.workers]

runner = CliRunner()
CATALOG = ("framework,model_family,model_name,docker_image,python_package,module,class_name,params\n"
           'echo,Echo,echo-no,,,,echo,"{""answer"": ""no""}"\n'
           'echo,Echo,echo-yes,,,,echo,"{""answer"": ""yes""}"\n')


def run(root: Path, name: str, models: list[str], limit: int) -> Path:
    config = root / f"{name}.csv"
    config.write_text("model_name,dataset,metrics,limit\n"
                      + "".join(f"{model},easy-vqa,accuracy,{limit}\n" for model in models))
    catalog = root / "echo.csv"
    catalog.write_text(CATALOG)
    out = root / name
    result = runner.invoke(app, ["run", str(config), "--out", str(out), "--catalog", str(catalog)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("compare")
    return {"main": run(root, "main", ["easyvqa-tiny", "majority-easy-vqa", "echo-no"], 120),
            "later": run(root, "later", ["echo-yes"], 120),
            "fewer": run(root, "fewer", ["echo-yes"], 60)}


def compared(*args: str) -> dict:
    result = runner.invoke(app, ["compare", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def pair(table: dict, a: str, b: str) -> dict:
    return next(p for p in table["pairs"] if {p["a"], p["b"]} == {a, b})


def test_a_trained_model_beats_the_majority_answer_and_two_constant_answers_do_not_differ(runs):
    (table,) = compared(str(runs["main"]))["tables"]
    assert (table["dataset"], table["metric"], table["test"], table["n_samples"]) == (
        "easy-vqa", "accuracy", "mcnemar", 120)
    beaten = pair(table, "easyvqa-tiny", "majority-easy-vqa")
    assert beaten["a"] == "easyvqa-tiny" and beaten["significant"] and beaten["p_holm"] < 1e-6
    assert 0 < beaten["ci_low"] <= beaten["difference"] <= beaten["ci_high"]
    assert beaten["only_a"] > 10 * beaten["only_b"]
    even = pair(table, "majority-easy-vqa", "echo-no")
    assert not even["significant"] and even["p_holm"] > 0.05 and even["ci_low"] < 0 < even["ci_high"]
    assert {m["label"]: m["group"] for m in table["models"]} == {
        "easyvqa-tiny": 1, "majority-easy-vqa": 2, "echo-no": 2}


def test_the_tables_fit_80_columns_and_say_which_pairs_differ(runs, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    result = runner.invoke(app, ["compare", str(runs["main"])])
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80
    assert "easy-vqa: accuracy ↑ (McNemar exact, 120 samples)" in result.output
    assert "significant" in result.output and "n.s." in result.output


def test_runs_made_at_different_times_compare_on_the_same_samples(runs):
    (table,) = compared(str(runs["main"]), str(runs["later"]), "--models", "majority-easy-vqa,echo-yes")["tables"]
    assert {m["label"] for m in table["models"]} == {"majority-easy-vqa", "echo-yes"}
    assert {m["run_dir"] for m in table["models"]} == {str(runs["main"]), str(runs["later"])}
    (same,) = table["pairs"]
    # The majority answer of easy-VQA's training split is "yes": the same answers, no difference.
    assert same["n"] == 120 and same["difference"] == 0.0 and same["p_value"] == 1.0 and not same["significant"]


def test_runs_over_different_samples_are_refused_in_one_line(runs):
    result = runner.invoke(app, ["compare", str(runs["main"]), str(runs["fewer"])])
    assert result.exit_code == 2 and "Traceback" not in result.output
    (line,) = [line for line in result.output.splitlines() if line.strip()]
    assert "different samples (120 and 60" in line and str(runs["fewer"]) in line


def test_an_unknown_model_is_refused_with_the_close_names(runs):
    result = runner.invoke(app, ["compare", str(runs["main"]), "--models", "easyvqa-tiny,majority"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "no model 'majority'" in result.output and "did you mean majority-easy-vqa" in result.output


def test_the_run_report_carries_the_comparison(runs):
    from vlmbench.rundir import RunDir

    report = RunDir(runs["main"]).report_md.read_text(encoding="utf-8")
    section = report[report.index("## Paired comparison"):report.index("## Jobs")]
    assert "| easyvqa-tiny − majority-easy-vqa |" in section and "| majority-easy-vqa − echo-no |" in section
    assert '<section id="compare">' in RunDir(runs["main"]).report_html.read_text(encoding="utf-8")
    assert "## Paired comparison" not in RunDir(runs["later"]).report_md.read_text(encoding="utf-8")
