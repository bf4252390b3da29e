"""The easy-VQA model shipped in the package answers for real, through the generic adapter."""

import json
import subprocess
import sys
from collections import Counter

import pytest

from vlmbench.catalog import load_catalog
from vlmbench.datasets import load_dataset, load_image, make_bundled
from vlmbench.metrics import normalize_answer
from vlmbench.models.base import Request
from vlmbench.models.packaged import resolve_packaged
from vlmbench.registry import resolve_model_class

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_shipped_model_beats_the_majority_baseline_by_a_wide_margin():
    row = load_catalog(include_plugins=False).get("easyvqa-tiny")
    model = resolve_model_class(row.class_path)(weights=resolve_packaged(row.weights), **row.params)
    train = load_dataset(make_bundled("easy-vqa-train"))
    majority = Counter(s.answer for s in train.samples).most_common(1)[0][0]
    test = load_dataset(make_bundled("easy-vqa"))
    samples = test.samples[:400]
    answers = model.generate([Request(prompt=s.question, images=[load_image(test.root, s.images[0])])
                              for s in samples])
    accuracy = sum(normalize_answer(a) == s.answer for a, s in zip(answers, samples, strict=True)) / len(samples)
    baseline = sum(s.answer == majority for s in samples) / len(samples)
    assert accuracy > 0.6 and accuracy > baseline + 0.25, (accuracy, baseline)
    # The answers come from its vocabulary, not stray tokens.
    assert Counter(map(normalize_answer, answers)).keys() <= {a for a in (s.answer for s in train.samples)}


def test_the_catalog_row_runs_in_a_worker(tmp_path):
    config = tmp_path / "run.csv"
    config.write_text("model_name,dataset,metrics,limit\neasyvqa-tiny,easy-vqa,accuracy,64\n")
    result = subprocess.run([sys.executable, "-m", "vlmbench", "run", str(config), "--out", str(tmp_path / "out")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    (metrics_file,) = (tmp_path / "out" / "jobs").glob("*/metrics.json")
    general = next(r for r in json.loads(metrics_file.read_text()) if r["aggregator"] == "general")
    assert general["metric"] == "accuracy" and general["n"] == 64 and general["value"] > 0.6
