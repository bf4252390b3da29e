"""Prompt templates: {question}, {choices}, the default multiple-choice prompt, collections."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

import vlmbench.plan
from vlmbench.catalog import load_catalog
from vlmbench.config import read_run_config
from vlmbench.errors import ConfigError
from vlmbench.plan import build_plan
from vlmbench.prompt_files import read_prompt_collection
from vlmbench.prompts import fill_template, lettered_options
from vlmbench.rundir.records import PromptRule, PromptSpec

ANIMALS = ["dog", "cat", "bird"]
INSTRUCTION = PromptSpec().choices_template.split("{choices}")[1].strip()


def test_options_are_lettered_lines():
    assert lettered_options(ANIMALS) == "A. dog\nB. cat\nC. bird"
    assert lettered_options([]) == ""
    with pytest.raises(ValueError, match="at most 26"):
        lettered_options([str(i) for i in range(27)])


def test_the_default_wording_places_question_options_and_an_instruction():
    template = PromptSpec().choices_template
    assert template.index("{question}") < template.index("{choices}")
    assert "letter" in INSTRUCTION


def test_a_sample_with_choices_gets_the_default_multiple_choice_prompt():
    prompt = PromptSpec().render("Which animal is this?", choices=ANIMALS)
    assert prompt == f"Which animal is this?\nA. dog\nB. cat\nC. bird\n{INSTRUCTION}"


def test_a_template_without_choices_wraps_the_multiple_choice_question():
    prompt = PromptSpec(template='Look at the image. {question}\nReply as JSON: {"letter": "..."}').render(
        "Which animal?", choices=ANIMALS)
    assert prompt == ('Look at the image. Which animal?\nA. dog\nB. cat\nC. bird\n'
                      f'{INSTRUCTION}\nReply as JSON: {{"letter": "..."}}')


def test_a_template_with_choices_places_them_itself_and_gets_no_instruction():
    spec = PromptSpec(template="Q: {question}\nOptions:\n{choices}\nAnswer: {\"x\": 1}")
    assert spec.render("Which animal?", choices=ANIMALS) == (
        'Q: Which animal?\nOptions:\nA. dog\nB. cat\nC. bird\nAnswer: {"x": 1}')
    # The same template for a sample without options loses the {choices} line, nothing else.
    assert spec.render("What is written?") == 'Q: What is written?\nOptions:\nAnswer: {"x": 1}'


@pytest.mark.parametrize("template", [
    "{question}",
    "Answer briefly: {question}",
    'Extract the fields as JSON {"name": "...", "date": "..."} from: {question} {question}',
    "{question} {not_a_placeholder} {0} {}",
])
def test_text_only_samples_render_exactly_as_before(template):
    question = 'What is written? {"quoted": true}'
    assert PromptSpec(template=template).render(question) == template.replace("{question}", question)


def test_placeholders_are_filled_once_never_inside_the_question_or_options():
    spec = PromptSpec(template="{question}\n{choices}")
    assert spec.render("Why {choices}?", choices=["{question}", "b"]) == "Why {choices}?\nA. {question}\nB. b"
    assert fill_template("{question}", "{choices}", "A. x") == "{choices}"


def test_prompt_collection_rules_may_place_choices(tmp_path: Path):
    path = tmp_path / "prompts.csv"
    path.write_text("doc_class,question_type,prompt\n"
                    ",multiple_choice,\"{question}\n{choices}\nLetter:\"\n"
                    ",,Read: {question}\n", encoding="utf-8")
    spec = PromptSpec(rules=read_prompt_collection(path).rules_for([]))
    assert spec.render("Which?", question_type="multiple_choice", choices=["x", "y"]) == "Which?\nA. x\nB. y\nLetter:"
    assert spec.render("Which?", question_type="other", choices=["x", "y"]) == f"Read: Which?\nA. x\nB. y\n{INSTRUCTION}"
    assert spec.render("What is written?") == "Read: What is written?"


def test_a_run_csv_prompt_may_use_choices_but_still_needs_question(tmp_path: Path):
    path = tmp_path / "run.csv"
    path.write_text('model_name;dataset;prompt\necho;data;"{question}\n{choices}\nLetter only."\n', encoding="utf-8")
    (row,) = read_run_config(path).rows
    assert row.prompt == "{question}\n{choices}\nLetter only."
    path.write_text("model_name;dataset;prompt\necho;data;{choices}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\{question\}"):
        read_run_config(path)


def test_choices_template_is_part_of_the_job_file():
    dumped = PromptSpec().model_dump()
    assert dumped["choices_template"] == PromptSpec().choices_template
    assert PromptSpec.model_validate(dumped) == PromptSpec()
    assert PromptSpec.model_validate({"template": "{question}", "rules": [PromptRule(template="{question}")]})


def _choice_dataset(root: Path) -> Path:
    (root / "images").mkdir(parents=True)
    Image.new("RGB", (8, 8), "red").save(root / "images" / "0.png")
    sample = {"id": "q0", "images": ["images/0.png"], "question": "What colour?", "answer": "A",
              "choices": ["red", "blue"], "question_type": "multiple_choice"}
    (root / "annotations.jsonl").write_text(json.dumps(sample) + "\n", encoding="utf-8")
    return root


def test_a_change_of_the_default_wording_makes_new_jobs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    dataset = _choice_dataset(tmp_path / "mc")
    (tmp_path / "catalog.csv").write_text("framework,model_family,model_name,docker_image,python_package,module,"
                                          "class_name\necho,Echo,echo-test,,,,echo\n", encoding="utf-8")
    (tmp_path / "run.csv").write_text(f"model_name,dataset\necho-test,{dataset}\n", encoding="utf-8")
    config = read_run_config(tmp_path / "run.csv")
    catalog = load_catalog([tmp_path / "catalog.csv"], include_plugins=False)

    def job_id() -> str:
        (job,) = build_plan(config, catalog, executor="local", out=tmp_path / "out").jobs
        return job.job_id

    before = job_id()
    assert job_id() == before

    class Reworded(PromptSpec):
        choices_template: str = "{question}\n{choices}\nName one letter."

    monkeypatch.setattr(vlmbench.plan, "PromptSpec", Reworded)
    assert job_id() != before
