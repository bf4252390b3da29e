"""Multiple choice end to end: a VLMEvalKit TSV, imported, run, scored from the extracted letters.

The TSV is written as VLMEvalKit writes its benchmark files (pandas, tab
separated, a base64 image per row, options in A..D, NaN as an empty cell).
The model is a real model class, named in a catalog row and imported by the
worker: it can only answer from what its prompt shows, picking the lettered
option that names something it believes. So the options must reach the
prompt for it to answer at all.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from vlmbench.rundir import JobDir
from vlmbench.rundir.records import PromptSpec

pytestmark = [pytest.mark.integration, pytest.mark.workers]

INSTRUCTION = PromptSpec().choices_template.split("{choices}")[1].strip()

MODEL = textwrap.dedent('''
    import re

    from vlmbench.models.base import VisionLanguageModel


    class OptionReader(VisionLanguageModel):
        """Reads the lettered options of its prompt and names the one it believes, in a chosen style."""

        max_batch_size = 4

        def __init__(self, weights=None, beliefs=(), style="{letter}", **params):
            super().__init__(weights, **params)
            self.beliefs = [belief.lower() for belief in beliefs]
            self.style = style

        def generate(self, requests):
            replies = []
            for request in requests:
                options = dict(re.findall(r"^([A-Z])\\. (.+)$", request.prompt, re.MULTILINE))
                picked = [letter for letter, text in options.items() if text.lower() in self.beliefs]
                if not options:
                    replies.append("I see no options to choose from.")
                elif len(picked) != 1:
                    replies.append("I cannot tell.")
                else:
                    replies.append(self.style.format(letter=picked[0], text=options[picked[0]]))
            return replies
''')

BELIEFS = ["cat", "blue", "triangle", "reading a newspaper"]
STYLE = "The correct option is {letter} because the picture shows {text}; A is not it."


def png_base64(color: str) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), color).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def write_vlmevalkit_tsv(path: Path) -> Path:
    nan = math.nan
    rows = [
        # index, image, question, hint, A, B, C, D, answer, category, l2-category, split
        (0, png_base64("gray"), "What animal is in the picture?", nan, "dog", "cat", "bird", nan, "B",
         "animals", "perception", "dev"),
        (1, png_base64("blue"), "What colour is the sky?", "The photo was taken at noon.", "red", "green", "blue",
         "yellow", "C", "colours", "perception", "dev"),
        (2, png_base64("white"), "Which shape has three sides?", nan, "circle", "square", "triangle", "rectangle",
         "C", "shapes", "reasoning", "dev"),
        (3, png_base64("green"), "What is the man doing?", nan, "riding a bicycle", "walking a dog",
         "reading a newspaper", nan, "A", "actions", "perception", "dev"),  # the model believes wrongly
    ]
    columns = ["index", "image", "question", "hint", "A", "B", "C", "D", "answer", "category", "l2-category", "split"]
    pd.DataFrame(rows, columns=columns).to_csv(path, sep="\t", index=False)
    return path


@pytest.fixture
def model_site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    (site / "mcmodels").mkdir(parents=True)
    (site / "mcmodels" / "__init__.py").write_text("")
    (site / "mcmodels" / "reader.py").write_text(MODEL)
    return site


def vlmbench(*args: object, site: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "vlmbench", *map(str, args)], check=False, env=env,
                          capture_output=True, text=True, timeout=300)


def test_vlmevalkit_tsv_to_scored_letters(tmp_path: Path, model_site: Path):
    tsv = write_vlmevalkit_tsv(tmp_path / "MMBench_mini.tsv")
    assert "\tdog\tcat\tbird\t\tB\t" in tsv.read_text()  # the blank D, as pandas writes NaN

    dataset = tmp_path / "mmbench-mini"
    imported = vlmbench("datasets", "import", "vlmevalkit-tsv", tsv, dataset, site=model_site)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    records = [json.loads(line) for line in (dataset / "annotations.jsonl").read_text().splitlines()]
    assert records[0]["choices"] == ["dog", "cat", "bird"]

    catalog = tmp_path / "catalog.csv"
    params = json.dumps({"beliefs": BELIEFS, "style": STYLE})
    with catalog.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["framework", "model_family", "model_name", "docker_image", "python_package", "module",
                         "class_name", "params"])
        writer.writerow(["test", "Reader", "option-reader", "", "mcmodels", "reader", "OptionReader", params])
    config = tmp_path / "run.csv"
    config.write_text(
        "model_name;dataset;metrics;prompt\n"
        f"option-reader;{dataset};['accuracy'];\n"
        f"option-reader;{dataset};['accuracy'];\"Question: {{question}}\nOptions:\n{{choices}}\nLetter:\"\n",
        encoding="utf-8")
    out = tmp_path / "out"
    run = vlmbench("run", config, "--out", out, "--catalog", catalog, "--executor", "local", site=model_site)
    assert run.returncode == 0, run.stdout + run.stderr

    jobs = {json.loads((d / "job.json").read_text())["prompt"]["template"]: d for d in (out / "jobs").iterdir()}
    assert len(jobs) == 2
    default_job = jobs["{question}"]
    by_id = {p.id: p for p in JobDir(default_job).read_predictions()}
    # The options reach the model as lettered lines, without the blank D, and the instruction follows.
    assert by_id["0"].prompt == f"What animal is in the picture?\nA. dog\nB. cat\nC. bird\n{INSTRUCTION}"
    assert by_id["1"].prompt == ("The photo was taken at noon.\nWhat colour is the sky?\n"
                                 f"A. red\nB. green\nC. blue\nD. yellow\n{INSTRUCTION}")
    assert "D." not in by_id["3"].prompt
    assert by_id["0"].answer == "The correct option is B because the picture shows cat; A is not it."
    assert by_id["3"].answer.startswith("The correct option is C ")

    templated_job = next(d for template, d in jobs.items() if "{choices}" in template)
    (first, *_) = sorted(JobDir(templated_job).read_predictions(), key=lambda p: p.id)
    assert first.prompt == "Question: What animal is in the picture?\nOptions:\nA. dog\nB. cat\nC. bird\nLetter:"

    # Accuracy comes from the letters read out of the replies: 3 of 4 right (the man is not reading).
    with (out / "results.csv").open(newline="") as handle:
        results = [r for r in csv.DictReader(handle) if r["metric"] == "accuracy" and r["aggregator"] == "general"]
    assert sorted(float(r["value"]) for r in results) == [0.75, 0.75]
    scores = [json.loads(line) for line in (default_job / "scores.jsonl").read_text().splitlines()]
    assert {s["id"]: s["scores"]["accuracy"] for s in scores} == {"0": 1.0, "1": 1.0, "2": 1.0, "3": 0.0}
