"""Prompt templates and prompt collections.

A template holds `{question}` and, optionally, `{choices}`: a multiple-choice
sample's options as lettered lines ("A. cat", "B. dog", ...). When a sample
has options and its template does not place them, the question is wrapped
in ``PromptSpec.choices_template`` (question, options, an instruction to
answer with the letter). Only these two placeholders are filled, in one
pass, never with ``str.format``: prompts hold JSON examples with braces.

Prompt collections, which choose a template per doc_class / question_type,
are read by vlmbench.prompt_files.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

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

