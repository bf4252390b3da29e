"""The field's files through the CLI: `vlmbench datasets import`, and a run CSV naming a parquet file."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from tests.unit.datasets.importers.test_hf_parquet import IMAGE, hf_image, write_parquet
from vlmbench.cli.app import app
from vlmbench.datasets import load_dataset

runner = CliRunner()
TYPES = {"question_id": pa.int32(), "image": IMAGE, "answers": pa.list_(pa.string())}


def textvqa(root: Path) -> Path:
    """lmms-lab/textvqa's layout and columns: data/{split}-0000N-of-0000M.parquet, ten annotator answers."""
    for split, answers in (("validation", (["red"] * 10, ["blue"] * 10)), ("train", (["green"] * 10,))):
        rows = [
            {
                "image_id": f"img{n}",
                "question_id": n,
                "question": "what colour is it?",
                "image": hf_image("red"),
                "answers": list(given),
                "set_name": split,
            }
            for n, given in enumerate(answers)
        ]
        write_parquet(root / "data" / f"{split}-00000-of-00001.parquet", rows, TYPES)
    return root


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VLMBENCH_DATA_DIR", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "250")


def test_import_command_asks_for_a_split_then_imports(tmp_path: Path):
    source = textvqa(tmp_path / "textvqa")
    result = runner.invoke(app, ["datasets", "import", "hf-parquet", str(source), str(tmp_path / "out")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "holds splits train, validation" in result.output and "--split" in result.output
    result = runner.invoke(
        app, ["datasets", "import", "hf-parquet", str(source), str(tmp_path / "out"), "--split", "validation"]
    )
    assert result.exit_code == 0, result.output
    assert "imported 2 samples" in result.output
    assert [s.metadata["answers"][0] for s in load_dataset(tmp_path / "out").samples] == ["red", "blue"]


def test_import_command_map_option(tmp_path: Path):
    source = write_parquet(
        tmp_path / "mine.parquet",
        [{"prompt": "Colour?", "label": "red", "picture": hf_image("red")}],
        {"picture": IMAGE},
    )
    result = runner.invoke(app, ["datasets", "import", "hf-parquet", str(source), str(tmp_path / "out")])
    assert result.exit_code == 2 and "--map question=COLUMN" in result.output
    result = runner.invoke(
        app,
        [
            "datasets",
            "import",
            "hf-parquet",
            str(source),
            str(tmp_path / "out"),
            "--map",
            "question=prompt",
            "--map",
            "answer=label",
        ],
    )
    assert result.exit_code == 0, result.output


@pytest.mark.integration
@pytest.mark.workers
def test_a_run_csv_naming_a_parquet_file_runs_and_scores(tmp_path: Path):
    textvqa(tmp_path / "textvqa")
    shard = "textvqa/data/validation-00000-of-00001.parquet"
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(
        "framework,model_family,model_name,docker_image,python_package,module,class_name,params\n"
        'echo,Echo,says-red,,,,echo,"{""answer"": ""red""}"\n'
    )
    config = tmp_path / "run.csv"
    config.write_text(f"model_name;dataset;metrics\nsays-red;{shard};['vqa_score']\n")

    checked = runner.invoke(app, ["validate", str(config), "--catalog", str(catalog)])
    assert checked.exit_code == 0, checked.output
    assert "2 samples" in checked.output  # validate loads the dataset, so it imports the file

    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(config), "--out", str(out), "--catalog", str(catalog)])
    assert result.exit_code == 0, result.output
    (job,) = (out / "jobs").iterdir()
    predictions = [json.loads(line) for line in (job / "predictions.jsonl").read_text().splitlines()]
    assert [p["answer"] for p in predictions] == ["red", "red"]
    with (out / "results.csv").open() as handle:
        (row,) = [
            r for r in csv.DictReader(handle) if r["metric"] == "vqa_score" and r["aggregator"] == "general"
        ]
    assert float(row["value"]) == pytest.approx(0.5)  # ten annotators said red for one, blue for the other

    # A train/validation folder cannot be run as it is: the message names the import that would.
    config.write_text("model_name;dataset\nsays-red;textvqa\n")
    refused = runner.invoke(app, ["validate", str(config), "--catalog", str(catalog)])
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    assert "vlmbench datasets import hf-parquet" in refused.output and "--split" in refused.output
