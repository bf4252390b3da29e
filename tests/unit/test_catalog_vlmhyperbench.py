"""VLMHyperBench's models CSV (`vlm_base.csv`) read as a catalog, in each version it has had.

The files are written byte for byte as VLMHyperBench keeps them: UTF-8 with a
BOM, `;`-separated, CRLF line ends.
"""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vlmbench.catalog import load_catalog, read_catalog_file
from vlmbench.cli.app import app
from vlmbench.errors import CatalogError
from vlmbench.frameworks import canonical_framework

QWEN2_IMAGE = "ghcr.io/vlmhyperbenchteam/qwen2-vl:ubuntu22.04-cu124-torch2.4.0_v0.1.0"
QWEN25_IMAGE = "ghcr.io/vlmhyperbenchteam/qwen2.5-vl:ubuntu22.04-cu124-torch2.4.0_v0.1.0"
QWEN2_GIT = "git+https://github.com/VLMHyperBenchTeam/model_qwen2-vl.git@0.1.1"
QWEN25_GIT = "git+https://github.com/VLMHyperBenchTeam/model_qwen2.5-vl.git@0.1.1"
# VLMHyperBenchTeam/VLMHyperBench, vlmhyperbench/vlm_base.csv as of June 2025 (commit ba79c53).
VLM_BASE_2025_06 = [
    "framework;model_family;model_name;docker_image;git_python_package;python_package;module;class_name",
    f"Hugging Face;Qwen2.5-VL;Qwen2.5-VL-3B-Instruct;{QWEN25_IMAGE};{QWEN25_GIT};model_qwen2_5_vl;models;"
    "Qwen2_5_VLModel",
    f"Hugging Face;Qwen2.5-VL;Qwen2.5-VL-7B-Instruct;{QWEN25_IMAGE};{QWEN25_GIT};model_qwen2_5_vl;models;"
    "Qwen2_5_VLModel",
    f"Hugging Face;Qwen2-VL;Qwen2-VL-2B-Instruct;{QWEN2_IMAGE};{QWEN2_GIT};model_qwen2_vl;models;"
    "Qwen2VLModel",
    f"Hugging Face;Qwen2-VL;Qwen2-VL-7B-Instruct;{QWEN2_IMAGE};{QWEN2_GIT};model_qwen2_vl;models;"
    "Qwen2VLModel",
]
# The same file as of January 2025 (commit f314817): `ClassName`, and python_package as `repo-name:tag`.
VLM_BASE_2025_01 = [
    "framework;model_family;model_name;docker_image;python_package;module;ClassName",
    f"Hugging Face;Qwen2-VL;Qwen2-VL-2B;{QWEN2_IMAGE};model_qwen2-vl:0.1.0;models;Qwen2VL_model",
    f"Hugging Face;Qwen2-VL;Qwen2-VL-7B;{QWEN2_IMAGE.replace('v0.1.0', 'v0.1.1')};model_qwen2-vl:0.1.1;"
    "models;Qwen2VL_model",
]


def write_theirs(path: Path, lines: list[str]) -> Path:
    path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path


def test_their_current_models_csv_is_a_catalog(tmp_path):
    rows = read_catalog_file(write_theirs(tmp_path / "vlm_base.csv", VLM_BASE_2025_06))
    assert [row.model_name for row in rows] == ["Qwen2.5-VL-3B-Instruct", "Qwen2.5-VL-7B-Instruct",
                                                "Qwen2-VL-2B-Instruct", "Qwen2-VL-7B-Instruct"]
    first = rows[0]
    assert first.framework == "hf"
    assert first.model_family == "Qwen2.5-VL"
    assert first.class_path == "model_qwen2_5_vl.models:Qwen2_5_VLModel"
    assert first.git_python_package == QWEN25_GIT
    assert first.docker_image == QWEN25_IMAGE
    assert first.weights is None and first.params == {}


@pytest.mark.parametrize("spelling", ["Hugging Face", "Hugging_Face", "HuggingFace", "hf", "transformers"])
def test_their_framework_spellings_find_their_rows(tmp_path, spelling):
    catalog = load_catalog([write_theirs(tmp_path / "vlm_base.csv", VLM_BASE_2025_06)], include_plugins=False)
    # Their row replaces the built-in one of the same name: a later catalog overrides.
    assert catalog.get("Qwen2-VL-2B-Instruct", spelling).class_path == "model_qwen2_vl.models:Qwen2VLModel"


def test_framework_names():
    assert canonical_framework("vLLM") == "vllm"
    assert canonical_framework("vllm-server") == "vllm-server"
    assert canonical_framework(" SGLang ") == "SGLang"  # nobody's alias: kept as written


def test_their_january_2025_columns(tmp_path):
    first, second = read_catalog_file(write_theirs(tmp_path / "vlm_base.csv", VLM_BASE_2025_01))
    assert first.class_path == "model_qwen2_vl.models:Qwen2VL_model"
    assert first.git_python_package == "git+https://github.com/VLMHyperBenchTeam/model_qwen2-vl.git@0.1.0"
    assert second.git_python_package.endswith("model_qwen2-vl.git@0.1.1")


def test_bad_rows_name_file_row_and_their_column(tmp_path):
    lines = [VLM_BASE_2025_01[0],
             "Hugging Face;Qwen2-VL;Qwen2-VL-2B;img;model_qwen2-vl:0.1.0;models;",
             "Hugging Face;Qwen2-VL;Qwen2-VL-7B;img;model_qwen2-vl:;models;Qwen2VL_model",
             "Hugging Face;Qwen2-VL;Qwen2-VL-9B;img;model_qwen2_vl;models;Qwen2VL_model",
             "hf;Qwen2-VL;Qwen2-VL-9B;img;model_qwen2_vl;models;Qwen2VL_model"]
    path = write_theirs(tmp_path / "vlm_base.csv", lines)
    with pytest.raises(CatalogError) as caught:
        read_catalog_file(path)
    problems = caught.value.lines()
    assert len(problems) == 3
    assert problems[0].startswith(f"{path}, row 1, column 'ClassName': empty")
    assert problems[1].startswith(f"{path}, row 2, column 'python_package': ")
    assert "name:tag" in problems[1]
    assert problems[2].startswith(f"{path}, row 4, column 'model_name': duplicate")
    assert "('Qwen2-VL-9B', 'hf')" in problems[2] and "first at row 3" in problems[2]


def test_list_models_filters_by_their_spelling(tmp_path):
    catalog = write_theirs(tmp_path / "vlm_base.csv", VLM_BASE_2025_06)
    result = CliRunner().invoke(app, ["list-models", "--framework", "Hugging Face", "--catalog", str(catalog),
                                      "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert {row["framework"] for row in rows} == {"hf"}
    theirs = [row for row in rows if row["source"] == str(catalog)]
    assert len(theirs) == 4


def test_a_bad_catalog_is_one_line_and_exit_2(tmp_path):
    path = write_theirs(tmp_path / "vlm_base.csv", [VLM_BASE_2025_06[0], "Hugging Face;Qwen2-VL;;img;;p;m;C"])
    result = CliRunner().invoke(app, ["list-models", "--catalog", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert f"{path}, row 1, column 'model_name'" in result.output
