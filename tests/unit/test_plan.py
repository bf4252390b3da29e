"""Job ids cover what decides the answers, not the references; how samples are chosen; one parse per plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import WORDS, make_text_dataset
from vlmbench.datasets import loader as loader_module
from vlmbench.errors import ConfigError
from vlmbench.rundir import JobDir
from vlmbench.runner import RunOptions, validate

CATALOG = ("framework,model_family,model_name,docker_image,python_package,module,class_name\n"
           "echo,Echo,echo-test,,,,echo\n")


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.csv"
    path.write_text(CATALOG)
    return path


def plan_ids(tmp_path: Path, catalog: Path, csv_text: str, **options) -> list[str]:
    config = tmp_path / "run.csv"
    config.write_text(csv_text, encoding="utf-8")
    plan = validate(config, RunOptions(out=tmp_path / "out", catalogs=[catalog], **options))
    return [job.job_id for job in plan.jobs]


def plan(tmp_path: Path, catalog: Path, csv_text: str, **options):
    config = tmp_path / "run.csv"
    config.write_text(csv_text, encoding="utf-8")
    return validate(config, RunOptions(out=tmp_path / "out", catalogs=[catalog], **options))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# --- annotation.csv ------------------------------------------------------------------------------------


def test_a_label_fix_keeps_every_job_id_and_an_input_change_makes_new_ones(tmp_path, catalog) -> None:
    data = make_text_dataset(tmp_path / "words", WORDS)
    annotation = data / "annotation.csv"
    csv_all = f"model_name,dataset\necho-test,{data}\n"
    csv_odd = f"model_name,dataset,filter_doc_class\necho-test,{data},odd\n"
    all_before = plan(tmp_path, catalog, csv_all).jobs[0]
    odd_before = plan_ids(tmp_path, catalog, csv_odd)

    edit(annotation, ";total;", ";Total;")  # s1's reference answer (an odd one)
    edit(annotation, ";receipt;", ";reciept;")  # s2's (an even one)
    all_after = plan(tmp_path, catalog, csv_all).jobs[0]
    assert all_after.job_id == all_before.job_id
    assert all_after.spec.dataset.fingerprint != all_before.spec.dataset.fingerprint  # the file did change
    assert all_after.spec.dataset.inputs_fingerprint == all_before.spec.dataset.inputs_fingerprint
    assert plan_ids(tmp_path, catalog, csv_odd) == odd_before

    seen = {all_before.job_id}
    for old, new in [
        ("s3;test;images/3.png;What is written?", "s3;test;images/3.png;What word is written?"),  # a question
        (";odd;full_text", ";odd;field"),  # a question_type: prompt rules select on it
        ("invoice;even;", "invoice;odd;"),  # a doc_class
    ]:
        edit(annotation, old, new)
        job_id = plan_ids(tmp_path, catalog, csv_all)[0]
        assert job_id not in seen, (old, new)
        seen.add(job_id)

    Image.effect_noise((90, 90), 60).save(data / "images" / "5.png")  # an image of another size
    job_id = plan_ids(tmp_path, catalog, csv_all)[0]
    assert job_id not in seen
    seen.add(job_id)
    # a filter that selects other samples
    assert plan_ids(tmp_path, catalog, csv_odd)[0] not in seen | set(odd_before)


def test_an_image_outside_the_selection_does_not_change_the_job(tmp_path, catalog) -> None:
    data = make_text_dataset(tmp_path / "words", WORDS)
    csv = f"model_name,dataset,limit\necho-test,{data},4\n"
    before = plan_ids(tmp_path, catalog, csv)
    Image.effect_noise((90, 90), 60).save(data / "images" / "10.png")  # sample s10, not among the first 4
    edit(data / "annotation.csv", "s11;test;images/11.png;What is written?", "s11;test;images/11.png;Which?")
    assert plan_ids(tmp_path, catalog, csv) == before
    assert plan_ids(tmp_path, catalog, f"model_name,dataset,limit\necho-test,{data},5\n") != before


# --- annotations.jsonl ---------------------------------------------------------------------------------


def write_jsonl(root: Path, records: list[dict]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name in ("a.png", "b.png"):
        Image.new("RGB", (6, 6), "blue").save(root / name)
    (root / "annotations.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return root


RECORDS = [
    {"id": "m1", "images": ["a.png", "b.png"], "question": "Which is larger?", "choices": ["left", "right"],
     "answer": "A", "doc_class": "chart", "question_type": "multiple_choice", "answers": ["A", "A", "B"]},
    {"id": "m2", "images": ["a.png"], "question": "Colour?", "answer": "blue", "doc_class": "photo",
     "question_type": "short", "answers": ["blue", "navy"]},
]


def test_jsonl_references_and_annotator_answers_are_not_inputs_but_choices_are(tmp_path, catalog) -> None:
    data = write_jsonl(tmp_path / "mm", RECORDS)
    csv = f"model_name,dataset\necho-test,{data}\n"
    before = plan_ids(tmp_path, catalog, csv)
    relabelled = [{**RECORDS[0], "answer": "B", "answers": ["B", "B", "B"]}, {**RECORDS[1], "answer": "navy"}]
    write_jsonl(data, relabelled)
    assert plan_ids(tmp_path, catalog, csv) == before
    write_jsonl(data, [{**relabelled[0], "choices": ["left", "right", "neither"]}, relabelled[1]])
    assert plan_ids(tmp_path, catalog, csv) != before


# --- sampling ------------------------------------------------------------------------------------------


def test_sample_and_seed_are_in_the_job_and_its_id(tmp_path, catalog) -> None:
    data = make_text_dataset(tmp_path / "words", WORDS)
    csv = f"model_name,dataset\necho-test,{data}\n"
    whole = plan(tmp_path, catalog, csv).jobs[0]
    drawn = plan(tmp_path, catalog, csv, sample=6).jobs[0]
    assert (drawn.spec.dataset.sample, drawn.spec.dataset.seed, drawn.n_samples) == (6, 0, 6)
    assert drawn.selection == "6 of 12: seeded sample (seed 0), stratified by doc_class"
    assert whole.selection == "all 12" and whole.spec.dataset.seed is None
    seeded = plan(tmp_path, catalog, csv, sample=6, seed=5).jobs[0]
    assert len({whole.job_id, drawn.job_id, seeded.job_id}) == 3
    assert plan(tmp_path, catalog, csv, sample=6, seed=0).jobs[0].job_id == drawn.job_id  # 0 is the default
    # the run CSV's cells mean the same as the options
    assert plan(tmp_path, catalog, f"model_name,dataset,sample,seed\necho-test,{data},6,5\n").jobs[0].job_id \
        == seeded.job_id
    # --limit caps a sample: "at most N"
    capped = plan(tmp_path, catalog, csv, sample=6, limit=4).jobs[0]
    assert capped.n_samples == 4 and capped.selection.startswith("4 of 12: seeded sample")
    assert plan(tmp_path, catalog, csv, limit=4).jobs[0].selection == "first 4 of 12"


@pytest.mark.parametrize(("columns", "cells", "options", "expected"), [
    ("", "", {"sample": 13}, ["row 1:", "--sample 13 is more than the 12 samples of dataset words"]),
    (";sample", ";13", {}, ["row 1, column 'sample'", "sample 13 is more than the 12 samples"]),
    (";filter_doc_class", ";odd", {"sample": 7}, ["row 1:", "more than the 6 samples", "after the filters"]),
    (";seed", ";3", {}, ["row 1, column 'seed'", "seed is set but the row samples nothing"]),
    ("", "", {"seed": 3}, ["--seed 3 is given but nothing is sampled"]),
    ("", "", {"sample": 0}, ["--sample must be a whole number >= 1, got 0"]),
    (";sample", ";0", {}, ["row 1, column 'sample'", "greater than or equal to 1"]),
    (";seed;sample", ";-1;2", {}, ["row 1, column 'seed'", "greater than or equal to 0"]),
    (";sample", ";two", {}, ["row 1, column 'sample'", "valid integer"]),
])
def test_bad_selections_are_one_problem_each(tmp_path, catalog, columns, cells, options, expected) -> None:
    data = make_text_dataset(tmp_path / "words", WORDS)
    csv = f"model_name;dataset{columns}\necho-test;{data}{cells}\n"
    with pytest.raises(ConfigError) as caught:
        plan(tmp_path, catalog, csv, **options)
    lines = caught.value.lines()
    assert len(lines) == 1, lines
    for fragment in expected:
        assert fragment in lines[0]
    assert not (tmp_path / "out").exists()


# --- one parse per plan --------------------------------------------------------------------------------


def test_a_plan_of_four_rows_parses_the_dataset_once(tmp_path, catalog, monkeypatch) -> None:
    data = make_text_dataset(tmp_path / "words", WORDS)
    parses: list[Path] = []
    real = loader_module._parse
    monkeypatch.setattr(loader_module, "_parse", lambda root, files, name: parses.append(root) or real(
        root, files, name))
    loader_module.clear_dataset_cache()
    rows = "".join(f"echo-test,{data},P{i}: {{question}}\n" for i in range(4))
    result = plan(tmp_path, catalog, "model_name,dataset,prompt\n" + rows)
    assert len(result.jobs) == 4 and parses == [data.resolve()]
    edit(data / "annotation.csv", "What is written?", "What is shown?")  # changed: read again, once
    assert len({j.job_id for j in plan(tmp_path, catalog, "model_name,dataset,prompt\n" + rows).jobs}) == 4
    assert len(parses) == 2


# --- the worker selects what the host planned ----------------------------------------------------------


def test_the_worker_answers_the_planned_sample_and_refuses_a_changed_dataset(tmp_path, catalog) -> None:
    from vlmbench.worker import run_worker

    data = make_text_dataset(tmp_path / "words", WORDS)
    (job,) = plan(tmp_path, catalog, f"model_name,dataset\necho-test,{data}\n", sample=5, seed=2).jobs
    job_dir = tmp_path / "job"
    job_dir.mkdir()
    JobDir(job_dir).create(job.spec)
    edit(data / "annotation.csv", ";invoice;", ";Invoice;")  # a label fix after planning is fine
    assert run_worker(job_dir / "job.json") == 0
    predicted = [p.id for p in JobDir(job_dir).read_predictions()]
    assert len(predicted) == 5 and job.n_samples == 5
    assert JobDir(job_dir).read_status().references_fingerprint

    other = tmp_path / "job2"
    other.mkdir()
    JobDir(other).create(job.spec)
    annotation = data / "annotation.csv"
    annotation.write_text(annotation.read_text().replace("What is written?", "What is shown?"))  # questions aren't
    assert run_worker(other / "job.json") == 1
    status = JobDir(other).read_status()
    assert status.state == "failed" and "not the one this job was planned on" in status.error
    assert not (other / "predictions.jsonl").exists()
