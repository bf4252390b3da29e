"""Prompt collections: a CSV of prompts chosen per doc_class / question_type.

Columns `doc_class`, `question_type`, `prompt` (either selector may be blank
to match any value); every prompt must contain `{question}`.
"""

from __future__ import annotations

from pathlib import Path

from vlmbench.csvfiles import read_csv_table
from vlmbench.errors import ConfigError, Location, Problem
from vlmbench.jobfiles import PromptRule


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
