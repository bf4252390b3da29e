"""Prompt templates and prompt collections.

A template holds `{question}` and, optionally, `{choices}`: a multiple-choice
sample's options as lettered lines ("A. cat", "B. dog", ...). When a sample
has options and its template does not place them, the question is wrapped
in ``PromptSpec.choices_template`` (question, options, an instruction to
answer with the letter). Only these two placeholders are filled, in one
pass, never with ``str.format``: prompts hold JSON examples with braces.

A prompt collection is a CSV of prompts chosen per doc_class / question_type:
columns `doc_class`, `question_type`, `prompt` (either selector may be blank
to match any value); every prompt must contain `{question}`.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from pathlib import Path

from vlmbench.csvfiles import read_csv_table
from vlmbench.errors import ConfigError, Location, Problem
from vlmbench.jobfiles import PromptRule

OPTION_LETTERS = string.ascii_uppercase
_PLACEHOLDER = re.compile(r"\{(question|choices)\}")


def lettered_options(choices: Sequence[str]) -> str:
    """One line per option: "A. cat\\nB. dog"."""
    if len(choices) > len(OPTION_LETTERS):
        raise ValueError(f"{len(choices)} options: at most {len(OPTION_LETTERS)} can be lettered A-Z")
    return "\n".join(f"{letter}. {choice}" for letter, choice in zip(OPTION_LETTERS, choices))


def fill_template(template: str, question: str, options: str = "") -> str:
    """``template`` with {question} and {choices} filled in one pass.

    One pass: a question that itself says "{choices}" stays as written. With
    no options, a line holding only {choices} goes away with its line break.
    """
    if not options:
        template = "\n".join(line for line in template.split("\n") if line.strip() != "{choices}")
    values = {"question": question, "choices": options}
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def read_prompt_collection(path: Path) -> list[PromptRule]:
    table = read_csv_table(path, ConfigError)
    if "prompt" not in table.header:
        raise ConfigError("missing column 'prompt'", location=Location(path, 0),
                          hint="a prompt collection has columns doc_class, question_type, prompt")
    problems: list[Problem] = []
    rules: list[PromptRule] = []
    for number, cells in table.rows:
        template = cells.get("prompt", "")
        if "{question}" not in template:
            problems.append(Problem("a prompt must contain {question}", Location(path, number, "prompt")))
            continue
        rules.append(PromptRule(doc_class=cells.get("doc_class") or None,
                                question_type=cells.get("question_type") or None, template=template))
    if problems:
        raise ConfigError.from_problems(problems)
    return rules
