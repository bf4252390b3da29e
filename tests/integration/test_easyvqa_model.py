"""The easy-VQA model shipped in the package answers for real: alone, through the adapter, in a run."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import pytest
import transformers  # noqa: F401  (a missing install must fail, not skip)

from vlmbench.catalog import load_catalog
from vlmbench.datasets import load_dataset, load_image, make_bundled
from vlmbench.models.base import Request
from vlmbench.models.packaged import resolve_packaged
from vlmbench.registry import resolve_model_class

pytestmark = [pytest.mark.integration, pytest.mark.transformers, pytest.mark.workers]

QUESTIONS = 200
BATCH = 64


@pytest.fixture(scope="module")
def row():
    return load_catalog(include_plugins=False).get("easyvqa-tiny")


@pytest.fixture(scope="module")
def folder(row):
    return resolve_packaged(row.weights)


@pytest.fixture(scope="module")
def held_out():
    """200 test questions spread over the whole split (so over about 200 different images)."""
    test = load_dataset(make_bundled("easy-vqa"))
    step = len(test.samples) // QUESTIONS
    samples = test.samples[::step][:QUESTIONS]
    return samples, [load_image(test.root, s.images[0]) for s in samples]


@pytest.fixture(scope="module")
def majority():
    import easy_vqa

    return Counter(easy_vqa.get_train_questions()[1]).most_common(1)[0][0]


@pytest.fixture(scope="module")
def transformers_answers(folder, held_out):
    """Answers of the folder loaded the plain transformers way: chat template, left padding, greedy."""
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    processor = AutoProcessor.from_pretrained(folder)
    processor.tokenizer.padding_side = "left"
    model = AutoModelForImageTextToText.from_pretrained(folder, dtype=torch.float32).eval()
    samples, images = held_out
    answers: list[str] = []
    for start in range(0, len(samples), BATCH):
        chunk = samples[start:start + BATCH]
        texts = [processor.apply_chat_template(
            [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": s.question}]}],
            add_generation_prompt=True, tokenize=False) for s in chunk]
        inputs = processor(text=texts, images=images[start:start + BATCH], padding=True, return_tensors="pt")
        with torch.inference_mode():
            output = model.generate(**inputs, do_sample=False, max_new_tokens=8)
        new = output[:, inputs["input_ids"].shape[1]:]
        answers += [text.strip() for text in processor.batch_decode(new, skip_special_tokens=True)]
    return answers


def accuracy(answers, samples) -> float:
    return sum(a == s.answer for a, s in zip(answers, samples, strict=True)) / len(samples)


def test_the_shipped_folder_answers_far_above_the_majority_baseline(transformers_answers, held_out, majority):
    samples, _ = held_out
    baseline = sum(s.answer == majority for s in samples) / len(samples)
    score = accuracy(transformers_answers, samples)
    assert score >= 0.85 and score > baseline + 0.4, (score, baseline)
    for kind in ("shape", "color", "yes_no"):  # no question type left at chance
        of_kind = [(a, s) for a, s in zip(transformers_answers, samples, strict=True) if s.question_type == kind]
        assert len(of_kind) >= 20 and accuracy(*zip(*of_kind)) >= 0.75, kind
    # It writes answers from the easy-VQA vocabulary, one word, nothing else.
    assert set(transformers_answers) <= {s.answer for s in samples} | {majority}


def test_the_adapter_gives_the_same_answers(row, folder, held_out, transformers_answers):
    samples, images = held_out
    model = resolve_model_class(row.class_path)(weights=folder, **row.params)
    try:
        answers = model.generate([Request(prompt=s.question, images=[image])
                                  for s, image in zip(samples, images, strict=True)])
    finally:
        model.close()
    assert answers == transformers_answers
    # On the CPU the model computes in the worker's own process: no decoding thread beside it.
    assert model.decode_ahead is False


def test_metrics_json_describes_the_shipped_weights(folder):
    from pathlib import Path

    from vlmbench.training.shipping import METRICS_JSON, TrainingMetrics

    metrics = TrainingMetrics.model_validate_json(Path(folder, METRICS_JSON).read_text(encoding="utf-8"))
    assert metrics.n == 9673 and metrics.accuracy >= 0.85 and metrics.baseline < 0.4
    assert metrics.weights_bytes == Path(folder, "model.safetensors").stat().st_size < 5_000_000


@pytest.mark.slow
def test_the_catalog_row_runs_in_a_worker(tmp_path):
    config = tmp_path / "run.csv"
    config.write_text("model_name,dataset,metrics,limit\neasyvqa-tiny,easy-vqa,accuracy,64\n")
    result = subprocess.run([sys.executable, "-m", "vlmbench", "run", str(config), "--out", str(tmp_path / "out")],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    (metrics_file,) = (tmp_path / "out" / "jobs").glob("*/metrics.json")
    general = next(r for r in json.loads(metrics_file.read_text())["rows"] if r["aggregator"] == "general")
    assert general["metric"] == "accuracy" and general["n"] == 64 and general["value"] >= 0.8
