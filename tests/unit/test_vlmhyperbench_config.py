"""Every run-config CSV VLMHyperBench has had, read as it is (formats: tests/vlmhyperbench_files.py)."""

from __future__ import annotations

import pytest

from tests.vlmhyperbench_files import RUN_CONFIG_HEADERS, list_cell, write_run_config
from vlmbench.config import read_run_config
from vlmbench.errors import ConfigError

FIRST = {"dataset": "Passport_MINI", "framework": "Hugging Face", "model_family": "Qwen2-VL",
         "model_name": "Qwen2-VL-2B",
         "docker_image": "ghcr.io/vlmhyperbenchteam/qwen2-vl:ubuntu22.04-cu124-torch2.4.0_v0.1.0",
         "system_prompt": "1.txt", "prompt_collection": "AntonShiryaev.csv",
         "metrics": list_cell(["WER", "CER", "BLEU"]), "only_evaluate_metrics": "False",
         "metrics_aggregators": list_cell(["by_id", "by_doc_type", "overall"])}
LATEST = {"dataset": "demo_mini", "task": "VQA", "framework": "Hugging Face",
          "model_name": "Qwen2-VL-2B-Instruct",
          "prompt_collection": "demo_mini/JuliaJu_Qwen2-VL-2B_demo_mini_cer0.csv",
          "metrics": list_cell(["CER"]), "only_evaluate_metrics": "False",
          "metrics_aggregators": list_cell(["by_id", "by_doc_question", "by_doc_type", "general"]),
          "filter_doc_class": "passport", "filter_question_type": "Серия и номер паспорта"}


@pytest.mark.parametrize("version", list(RUN_CONFIG_HEADERS))
def test_every_version_of_their_run_config_reads(tmp_path, version):
    cells = FIRST if version != "2025-03-21" else LATEST
    config = read_run_config(write_run_config(tmp_path / "user_config.csv", version, [cells, cells]))
    row = config.rows[0]
    assert len(config.rows) == 2 and row.row == 1
    assert (row.dataset, row.model_name) == (cells["dataset"], cells["model_name"])
    assert row.framework == "Hugging Face"
    assert row.only_evaluate_metrics is False
    assert row.metrics_aggregators[0] == "by_id" and row.system_prompt == (cells.get("system_prompt") or None)
    assert row.model_family == ("Qwen2-VL" if version == "2025-01-17" else None)


def test_json_quoted_lists_lf_line_ends_and_true_cells(tmp_path):
    cells = {**LATEST, "only_evaluate_metrics": "True",
             "metrics_aggregators": list_cell(["by_id", "by_doc_question", "general"], quoting="double")}
    path = write_run_config(tmp_path / "user_config_2.csv", "2025-03-21", [cells], line_end="\n",
                            final_line_end=True)
    assert path.read_bytes().startswith(b"\xef\xbb\xbfdataset;task;")
    row = read_run_config(path).rows[0]
    assert row.metrics_aggregators == ["by_id", "by_doc_question", "general"]
    assert row.only_evaluate_metrics is True and row.task == "VQA"


def test_a_filter_is_one_value_even_with_a_comma(tmp_path):
    # BenchmarkRunConfig.filter_question_type is one string compared for equality.
    cells = {**LATEST, "filter_question_type": "Кем выдан, дата выдачи"}
    row = read_run_config(write_run_config(tmp_path / "c.csv", "2025-03-21", [cells])).rows[0]
    assert row.filter_question_type == ["Кем выдан, дата выдачи"] and row.filter_doc_class == ["passport"]
    assert row.metrics == ["CER"]


def test_a_bad_flag_names_file_row_and_column(tmp_path):
    cells = {**LATEST, "only_evaluate_metrics": "Nope"}
    with pytest.raises(ConfigError) as caught:
        read_run_config(write_run_config(tmp_path / "c.csv", "2025-03-21", [LATEST, cells]))
    (line,) = str(caught.value).splitlines()
    assert "c.csv, row 2, column 'only_evaluate_metrics': must be true or false" in line
