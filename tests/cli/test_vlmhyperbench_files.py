"""VLMHyperBench's own files, unchanged, through `vlmbench validate` and `vlmbench run`.

The files are written by tests/vlmhyperbench_files.py in their exact formats
(each writer names the VLMHyperBenchTeam repository and file it follows); the
model is the echo test model (it answers "<n images> <prompt>") named in their
vlm_base.csv catalog format.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.vlmhyperbench_files import (
    RUN_CONFIG_HEADERS,
    list_cell,
    write_data_root,
    write_run_config,
    write_vlm_base,
)
from vlmbench.cli.app import app

runner = CliRunner()
SYSTEM_PROMPT = "Ты — эксперт по документам."
COLLECTION = "demo_mini/JuliaJu_demo_mini.csv"


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.delenv("VLMBENCH_DATA_ROOT", raising=False)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """Their repository's shape: the run CSV at the top, the data under vlmhyperbench/data_dirs."""
    write_data_root(tmp_path / "vlmhyperbench" / "data_dirs")
    write_vlm_base(tmp_path / "vlm_base.csv", [("Hugging Face", "Qwen2-VL", "Qwen2-VL-2B-Instruct", "echo")])
    return tmp_path


def row(**cells: str) -> dict[str, str]:
    """A row of user_config_model_eval.csv as they ship it, with ``cells`` changed."""
    return {"dataset": "demo_mini", "task": "VQA", "framework": "Hugging Face",
            "model_name": "Qwen2-VL-2B-Instruct", "system_prompt": "1.txt", "prompt_collection": COLLECTION,
            "metrics": list_cell(["CER"]), "only_evaluate_metrics": "False",
            "metrics_aggregators": list_cell(["by_id", "by_doc_question", "by_doc_type", "general"]), **cells}


def invoke(checkout: Path, command: str, config: Path, *more: str, env_root: bool = True):
    env = {"VLMBENCH_DATA_ROOT": str(checkout / "vlmhyperbench" / "data_dirs")} if env_root else {}
    args = [command, str(config), "--catalog", str(checkout / "vlm_base.csv"), *more]
    if command == "run":
        args += ["--out", str(checkout / "out")]
    return runner.invoke(app, args, env=env, catch_exceptions=False)


def predictions(checkout: Path) -> dict[str, dict]:
    (job_dir,) = (checkout / "out" / "jobs").iterdir()
    lines = (job_dir / "predictions.jsonl").read_text(encoding="utf-8").splitlines()
    return {p["id"]: p for p in map(json.loads, lines)}


def test_their_run_config_runs_unchanged_sending_their_prompts_and_system_prompt(checkout: Path) -> None:
    config = write_run_config(checkout / "user_config_model_eval.csv", "2025-03-21", [row()])
    validated = invoke(checkout, "validate", config)
    assert validated.exit_code == 0, validated.output
    result = invoke(checkout, "run", config)
    assert result.exit_code == 0, result.output
    sent = predictions(checkout)
    assert list(sent) == ["1:Серия и номер паспорта", "1:Фамилия", "1:Имя", "2:Фамилия", "2:Имя",
                          "3:Номер счет-фактуры", "3:Продавец"]
    # The collection's prompt replaces the question; the file's text, not its name, is the system prompt.
    assert sent["2:Фамилия"]["prompt"] == "Напиши Фамилия. Пример: Куликов."
    assert sent["2:Фамилия"]["answer"] == "1 Напиши Фамилия. Пример: Куликов."
    assert {p["system_prompt"] for p in sent.values()} == {SYSTEM_PROMPT}
    results = (checkout / "out" / "results.csv").read_text(encoding="utf-8")
    assert "by_doc_question" in results and "by_id" in results


@pytest.mark.parametrize("version", list(RUN_CONFIG_HEADERS))
@pytest.mark.parametrize("quoting", ["single", "double"])
def test_every_version_of_their_run_config_validates_and_runs(checkout: Path, version: str,
                                                              quoting: str) -> None:
    cells = row(model_family="Qwen2-VL", metrics=list_cell(["WER", "CER", "BLEU"], quoting),
                metrics_aggregators=list_cell(["by_id", "by_doc_type", "overall"], quoting))
    if version != "2025-03-21":  # no task column: the dataset and collection are found in any task folder
        cells["prompt_collection"] = "VQA/" + COLLECTION
    config = write_run_config(checkout / "user_config.csv", version, [cells])
    assert invoke(checkout, "validate", config).exit_code == 0
    result = invoke(checkout, "run", config)
    assert result.exit_code == 0, result.output
    sent = predictions(checkout)
    assert len(sent) == 7 and sent["1:Имя"]["prompt"] == "Напиши Имя. Пример: Арсен."


def test_their_filters_keep_one_doc_class_and_question_type(checkout: Path) -> None:
    # user_config_prompt_eval.csv: filter_doc_class passport, filter_question_type a question type.
    config = write_run_config(checkout / "user_config_prompt_eval.csv", "2025-03-21",
                              [row(filter_doc_class="passport", filter_question_type="Фамилия")])
    result = invoke(checkout, "run", config)
    assert result.exit_code == 0, result.output
    assert list(predictions(checkout)) == ["1:Фамилия", "2:Фамилия"]


def test_the_data_root_by_option_and_relative_paths_without_one(checkout: Path) -> None:
    config = write_run_config(checkout / "user_config.csv", "2025-03-21", [row()])
    root = checkout / "vlmhyperbench" / "data_dirs"
    by_option = invoke(checkout, "validate", config, "--data-root", str(root), env_root=False)
    assert by_option.exit_code == 0, by_option.output
    # Paths relative to the run CSV still work with no root at all.
    relative = write_run_config(checkout / "relative.csv", "2025-03-21", [row(
        dataset="vlmhyperbench/data_dirs/Datasets/VQA/demo_mini",
        prompt_collection="vlmhyperbench/data_dirs/PromptCollections/VQA/" + COLLECTION,
        system_prompt="vlmhyperbench/data_dirs/SystemPrompts/1.txt")])
    result = invoke(checkout, "run", relative, env_root=False)
    assert result.exit_code == 0, result.output
    assert predictions(checkout)["1:Имя"]["system_prompt"] == SYSTEM_PROMPT


@pytest.mark.parametrize(("cells", "expected"), [
    ({"dataset": "demo_mni"}, ["user_config.csv, row 1, column 'dataset': 'demo_mni' is neither",
                               "did you mean demo_mini?"]),
    ({"prompt_collection": "demo_mini/JuliaJu_demo_mni.csv"},
     ["row 1, column 'prompt_collection': prompt collection not found: demo_mini/JuliaJu_demo_mni.csv",
      "did you mean demo_mini/JuliaJu_demo_mini.csv?"]),
    ({"system_prompt": "2.txt"}, ["row 1, column 'system_prompt': system prompt file not found: 2.txt",
                                  "did you mean 1.txt?"]),
    ({"model_family": "Qwen2.5-VL"}, ["row 1, column 'model_family': model 'Qwen2-VL-2B-Instruct' is of "
                                      "family 'Qwen2-VL' in the catalog, not 'Qwen2.5-VL'"]),
])
def test_a_bad_name_is_one_line_exit_2_in_validate_and_run_alike(checkout: Path, cells, expected) -> None:
    version = "2025-01-17" if "model_family" in cells else "2025-03-21"
    config = write_run_config(checkout / "user_config.csv", version, [row(**cells)])
    for command in ("validate", "run"):
        result = invoke(checkout, command, config)
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        (line,) = [line for line in result.output.splitlines() if line.strip()]
        assert all(part in line for part in expected), line
    assert not (checkout / "out").exists()


def test_a_prompt_the_collection_lacks_is_named_before_anything_runs(checkout: Path) -> None:
    collection = checkout / "vlmhyperbench" / "data_dirs" / "PromptCollections" / "VQA" / COLLECTION
    text = collection.read_text(encoding="utf-8-sig").replace("invoice Продавец", "invoice Продвец")
    collection.write_text(text, encoding="utf-8-sig")
    config = write_run_config(checkout / "user_config.csv", "2025-03-21", [row()])
    for command in ("validate", "run"):
        result = invoke(checkout, command, config)
        assert result.exit_code == 2 and "Traceback" not in result.output
        (line,) = [line for line in result.output.splitlines() if line.strip()]
        assert f"{collection}, column 'doc_class_question_type': no prompt for 'invoice Продавец'" in line
        assert "did you mean invoice Продвец?" in line


def test_without_a_root_the_message_names_the_checkouts_data_folder(checkout: Path) -> None:
    config = write_run_config(checkout / "user_config.csv", "2025-03-21", [row()])
    result = invoke(checkout, "validate", config, env_root=False)
    assert result.exit_code == 2 and "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 3  # dataset, prompt collection, system prompt
    assert all(f"--data-root {checkout / 'vlmhyperbench' / 'data_dirs'}" in line for line in lines)
