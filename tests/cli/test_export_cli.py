"""`vlmbench export RUN_DIR --format vlmhyperbench`, read back as VLMHyperBench's own code reads it.

VLMHyperBench's metric_evaluator (github.com/VLMHyperBenchTeam/metric_evaluator,
metric_evaluator/metric_evaluator.py, tag 0.1.1) reads both the annotation
and the answers file with ``pd.read_csv(path, sep=";", encoding="utf-8-sig")``,
numbers the annotation rows as ``id`` and keeps the rows an answer names;
the same call reads what it wrote. The tests read the exported files that
way and score them as it does (jiwer on the lists of a group).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jiwer
import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.conftest import WORDS, make_text_dataset
from tests.vlmhyperbench_files import DEMO_ROWS, write_dataset
from vlmbench.cli.app import app

runner = CliRunner()
THEIR_READ = {"sep": ";", "encoding": "utf-8-sig"}  # metric_evaluator's read_file
ANSWERS_NAME = re.compile(r"words_(?P<framework>.+)_(?P<model>[^_]+)_VQA_answers_\d{8}_\d{6}\.csv")


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def their_annotation(dataset: Path) -> pd.DataFrame:
    annotation = pd.read_csv(dataset / "annotation.csv", **THEIR_READ)
    annotation["id"] = annotation.index
    return annotation


def job_files(run_dir: Path) -> tuple[dict, list[dict], dict]:
    (job_dir,) = (run_dir / "jobs").iterdir()
    predictions = {p["id"]: p for p in map(json.loads, (job_dir / "predictions.jsonl").read_text().splitlines())}
    scores = [json.loads(line) for line in (job_dir / "scores.jsonl").read_text().splitlines()]
    rows = json.loads((job_dir / "metrics.json").read_text())["rows"]
    figures = {(r["metric"], r["aggregator"], r["group"]): r["value"] for r in rows}
    return predictions, scores, figures


@pytest.mark.integration
@pytest.mark.tesseract
@pytest.mark.workers
def test_tesseract_run_exported_reads_back_as_metric_evaluator_reads_it(tmp_path):
    dataset = make_text_dataset(tmp_path / "words", WORDS, corrupt={3})  # one sample fails to decode
    config = tmp_path / "run.csv"
    config.write_text(
        "model_name;dataset;task;metrics;metrics_aggregators;params\n"
        f"tesseract-eng;{dataset};VQA;['CER', 'CER_pooled', 'WER_pooled', 'BLEU', 'exact_match'];"
        "['by_id', 'by_doc_question', 'by_doc_type', 'general', 'by_question_type'];{\"psm\": \"line\"}\n",
        encoding="utf-8")
    run_dir, out = tmp_path / "run", tmp_path / "export"
    assert invoke("run", config, "--out", run_dir).exit_code == 0
    result = invoke("export", run_dir, "--format", "vlmhyperbench", "--out", out)
    assert result.exit_code == 0, result.output
    assert "1 failed sample(s) left out" in result.output and "by_question_type left out" in result.output
    predictions, scores, figures = job_files(run_dir)

    (answers_path,) = (out / "ModelsAnswers").iterdir()
    assert ANSWERS_NAME.fullmatch(answers_path.name)["framework"] == "tesseract"
    assert answers_path.read_bytes().startswith("\ufeffid;model_answer\n".encode())
    answers = pd.read_csv(answers_path, **THEIR_READ)
    assert list(answers.columns) == ["id", "model_answer"]
    annotation = their_annotation(dataset)
    answered = [i for i in range(len(WORDS)) if i != 3]
    assert answers["id"].tolist() == answered
    sample_ids = annotation.loc[answers["id"], "data_index"].tolist()
    assert answers["model_answer"].astype(str).tolist() == [predictions[s]["answer"] for s in sample_ids]
    assert predictions["s3"]["error"]

    stem = answers_path.stem
    metrics = {aggregator: pd.read_csv(out / "ModelsMetrics" / f"{stem}_{aggregator}.csv", **THEIR_READ)
               for aggregator in ("by_id", "by_doc_type", "by_doc_question", "general")}
    assert sorted(p.name for p in (out / "ModelsMetrics").iterdir()) == sorted(
        f"{stem}_{a}.csv" for a in metrics)
    ours = ["wer_error", "cer_error"]
    assert list(metrics["by_id"].columns) == ["id", "model_answer", *annotation.columns.drop("id"),
                                              *ours, "bleu_score", "exact_match_score"]
    assert list(metrics["by_doc_type"].columns) == ["doc_class", *ours, "bleu_error", "exact_match_score"]
    assert list(metrics["by_doc_question"].columns) == ["doc_class", "question_type", *ours, "bleu_error",
                                                        "exact_match_score"]
    assert list(metrics["general"].columns) == [*ours, "bleu_score", "exact_match_score"]

    # The run's own figures, BLEU on their 0..100 scale.
    by_id = metrics["by_id"]
    answered_scores = [s for s in scores if s["error"] is None]
    assert by_id["data_index"].tolist() == [s["id"] for s in answered_scores]
    assert by_id["cer_error"].tolist() == pytest.approx([s["scores"]["cer_pooled"] for s in answered_scores])
    assert by_id["bleu_score"].tolist() == pytest.approx([100 * s["scores"]["bleu"] for s in answered_scores])
    assert by_id["model_answer"].astype(str).tolist() == [s["answer"] for s in answered_scores]
    general = metrics["general"].iloc[0]
    assert general["cer_error"] == pytest.approx(figures["cer_pooled", "general", "all"])
    assert general["wer_error"] == pytest.approx(figures["wer_pooled", "general", "all"])
    assert general["bleu_score"] == pytest.approx(100 * figures["bleu", "general", "all"])
    assert general["exact_match_score"] == pytest.approx(figures["exact_match", "general", "all"])
    for row in metrics["by_doc_type"].itertuples():
        assert row.cer_error == pytest.approx(figures["cer_pooled", "by_doc_type", row.doc_class])
    for row in metrics["by_doc_question"].itertuples():
        group = f"{row.doc_class}/{row.question_type}"
        assert row.exact_match_score == pytest.approx(figures["exact_match", "by_doc_question", group])

    # ...and, for CER/WER, what metric_evaluator computes from the exported answers.
    joined = answers.merge(annotation, on="id")
    references, hypotheses = joined["answer"].astype(str), joined["model_answer"].astype(str)
    assert general["cer_error"] == pytest.approx(jiwer.cer(references.tolist(), hypotheses.tolist()))
    assert general["wer_error"] == pytest.approx(jiwer.wer(references.tolist(), hypotheses.tolist()))
    for doc_class, group in joined.groupby("doc_class"):
        exported = metrics["by_doc_type"].set_index("doc_class").loc[doc_class, "cer_error"]
        assert exported == pytest.approx(jiwer.cer(group["answer"].astype(str).tolist(),
                                                   group["model_answer"].astype(str).tolist()))


def write_echo_run(tmp_path: Path, framework: str, metrics: str, prompts: tuple[str, ...]) -> Path:
    dataset = make_text_dataset(tmp_path / "words", WORDS[:4])
    catalog = tmp_path / "models.csv"
    catalog.write_text("framework,model_family,model_name,docker_image,python_package,module,class_name\n"
                       f"{framework},Echo,echo,,,,echo\n")
    config = tmp_path / "run.csv"
    config.write_text("model_name;dataset;task;prompt;metrics;metrics_aggregators\n" + "".join(
        f"echo;{dataset};VQA;{prompt};{metrics};['general', 'by_doc_type']\n" for prompt in prompts))
    run_dir = tmp_path / "run"
    assert invoke("run", config, "--out", run_dir, "--catalog", catalog).exit_code == 0
    return run_dir


def test_two_jobs_of_one_model_and_dataset_get_their_own_answers_files(tmp_path):
    run_dir = write_echo_run(tmp_path, "Hugging Face", "['CER', 'ANLS']", ("{question}", "Read: {question}"))
    result = invoke("export", run_dir, "--format", "vlmhyperbench")
    assert result.exit_code == 0, result.output
    out = run_dir / "vlmhyperbench"
    names = sorted(p.name for p in (out / "ModelsAnswers").iterdir())
    assert len(names) == 2
    # Their transformers classes call the framework Hugging_Face in the name.
    assert all(ANSWERS_NAME.fullmatch(n)["framework"] == "Hugging_Face" for n in names)
    prompts = set()
    for name in names:
        answers = pd.read_csv(out / "ModelsAnswers" / name, **THEIR_READ)
        prompts.add(answers["model_answer"].iloc[0])
        stem = name.removesuffix(".csv")
        general = pd.read_csv(out / "ModelsMetrics" / f"{stem}_general.csv", **THEIR_READ)
        assert list(general.columns) == ["cer_error", "anls_score"]
    assert prompts == {"1 What is written?", "1 Read: What is written?"}
    # cer, not cer_pooled, was scored: the reader is told whose figure the groups hold.
    assert "CER_pooled" in result.output and "mean of its samples' rates" in result.output


def test_the_by_id_file_numbers_annotations_jsonl_samples_in_file_order(tmp_path):
    dataset = tmp_path / "mc"
    dataset.mkdir()
    lines = [{"id": "q7", "question": "2+2?", "answer": "B", "choices": ["3", "4"], "doc_class": "math"},
             {"id": "q3", "question": "Capital of France?", "answer": "Paris", "lang": "en"}]
    (dataset / "annotations.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    catalog = tmp_path / "models.csv"
    catalog.write_text("framework,model_family,model_name,docker_image,python_package,module,class_name,params\n"
                       'echo,Echo,paris,,,,echo,"{""answer"": ""Paris""}"\n')
    config = tmp_path / "run.csv"
    config.write_text(f"model_name,dataset,metrics,metrics_aggregators\nparis,{dataset},exact_match,by_id\n")
    run_dir = tmp_path / "run"
    assert invoke("run", config, "--out", run_dir, "--catalog", catalog).exit_code == 0
    assert invoke("export", run_dir, "--format", "vlmhyperbench", "--out", tmp_path / "x").exit_code == 0
    (by_id_path,) = (tmp_path / "x" / "ModelsMetrics").iterdir()
    by_id = pd.read_csv(by_id_path, **THEIR_READ, keep_default_na=False)
    assert list(by_id.columns) == ["id", "model_answer", "data_index", "split", "image_path", "question", "answer",
                                   "doc_class", "question_type", "answer_bbox", "choices", "lang",
                                   "exact_match_score"]
    assert by_id[["id", "data_index", "choices", "lang"]].values.tolist() == [
        [0, "q7", "['3', '4']", ""], [1, "q3", "[]", "en"]]
    assert by_id["exact_match_score"].tolist() == [0.0, 1.0]


def test_their_one_row_per_question_dataset_keeps_its_rows_and_columns(tmp_path):
    dataset = write_dataset(tmp_path / "demo_mini")  # data_index repeats: one row per question, CRLF, BOM
    catalog = tmp_path / "models.csv"
    catalog.write_text("framework,model_family,model_name,docker_image,python_package,module,class_name,params\n"
                       'echo,Echo,fixed,,,,echo,"{""answer"": ""Алексей""}"\n')
    config = tmp_path / "run.csv"
    config.write_text("dataset;task;model_name;metrics;metrics_aggregators\n"
                      f"{dataset};VQA;fixed;['CER'];['by_id', 'by_doc_question', 'by_doc_type', 'general']\n",
                      encoding="utf-8")
    run_dir, out = tmp_path / "run", tmp_path / "out"
    assert invoke("run", config, "--out", run_dir, "--catalog", catalog).exit_code == 0
    assert invoke("export", run_dir, "--format", "vlmhyperbench", "--out", out).exit_code == 0
    (answers_path,) = (out / "ModelsAnswers").iterdir()
    assert answers_path.name.startswith("demo_mini_echo_fixed_VQA_answers_")
    answers = pd.read_csv(answers_path, **THEIR_READ)
    annotation = their_annotation(dataset)
    assert answers["id"].tolist() == annotation["id"].tolist() == list(range(len(DEMO_ROWS)))
    by_id = pd.read_csv(out / "ModelsMetrics" / f"{answers_path.stem}_by_id.csv", **THEIR_READ)
    # Every annotation column comes through as their merge of answers and annotation gives it.
    expected = answers.merge(annotation, on="id")
    pd.testing.assert_frame_equal(by_id.drop(columns="cer_error"), expected)
    assert by_id.loc[by_id["answer"] == "Алексей", "cer_error"].tolist() == [0.0]
    by_doc_question = pd.read_csv(out / "ModelsMetrics" / f"{answers_path.stem}_by_doc_question.csv",
                                  **THEIR_READ)
    pairs = {(row[5], row[6]) for row in DEMO_ROWS}
    assert by_doc_question[["doc_class", "question_type"]].values.tolist() == sorted(map(list, pairs))


@pytest.mark.parametrize(("args", "expected"), [
    (("--format", "vlmhyperbench"), "not a run directory"),
    (("--format", "lmms-eval"), "unknown export format 'lmms-eval' (known formats: vlmhyperbench)"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, expected):
    result = invoke("export", tmp_path / "nothing-here", *args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    (line,) = [line for line in result.output.splitlines() if line.strip()]
    assert line.startswith("error:") and expected in line
    assert not (tmp_path / "nothing-here").exists()
