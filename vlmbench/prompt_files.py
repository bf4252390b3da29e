"""Prompt collections and system prompts that a run CSV names by file.

A prompt collection is a CSV in one of two formats, told apart by its header:

- vlmbench's: ``doc_class``, ``question_type``, ``prompt`` (a template with
  ``{question}``; a blank selector matches any value, the most specific wins);
- VLMHyperBench's (prompt_adapter's ``PromptAdapter``): ``prompt`` and
  ``doc_class_question_type``, the key being ``f"{doc_class} {question_type}"``.
  The prompt *replaces* the question, as VLMHyperBench sends it; a selected
  sample whose key the file lacks is an error before the run, where
  VLMHyperBench stops mid-run. The first row of a repeated key wins, as there.

A ``system_prompt`` cell of one line ending in ``.txt`` or ``.md`` names a file
whose text is sent; any other cell is the system prompt itself.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from vlmbench.csvfiles import clip, read_csv_table, shorten
from vlmbench.dataroot import PROMPT_COLLECTIONS, SYSTEM_PROMPTS, candidates, known_files, root_hint
from vlmbench.datasets.schema import Sample
from vlmbench.errors import ConfigError, Location, Problem
from vlmbench.fileio import decode_text, expand_user, os_reason, read_regular
from vlmbench.rundir.records import PromptRule
from vlmbench.suggest import suggest

KEY_COLUMN = "doc_class_question_type"
MAX_SYSTEM_PROMPT_BYTES = 4 * 2**20  # a prompt, not a book: far more is the wrong file
# One line ending in .txt or .md, spaces allowed ("my prompts/ocr.txt"): a file, not a prompt.
_FILE_NAME = re.compile(r"[^\r\n]+\.(txt|md)", re.IGNORECASE)


@dataclass(frozen=True)
class PromptCollection:
    path: Path
    rules: list[PromptRule] = field(default_factory=list)  # vlmbench's format
    # VLMHyperBench's format: "doc_class question_type" -> the prompt sent instead of the question.
    by_key: dict[str, str] = field(default_factory=dict)

    def rules_for(self, samples: Sequence[Sample]) -> list[PromptRule]:
        """The rules that prompt ``samples``; a key they need that a VLMHyperBench file lacks: ConfigError."""
        if not self.by_key:
            return self.rules
        wanted = Counter((s.doc_class, s.question_type) for s in samples)
        missing = {f"{dc or ''} {qt or ''}": n for (dc, qt), n in wanted.items()
                   if f"{dc or ''} {qt or ''}" not in self.by_key}
        if missing:

            raise ConfigError.from_problems([
                Problem(f"no prompt for {key!r}, which {n} selected sample(s) need",
                        Location(self.path, column=KEY_COLUMN),
                        f"add a row '<prompt>;{key}'; " + suggest(key, list(self.by_key)))
                for key, n in missing.items()])
        return [PromptRule(doc_class=dc, question_type=qt, template=self.by_key[f"{dc or ''} {qt or ''}"])
                for dc, qt in wanted]


def read_prompt_collection(path: Path) -> PromptCollection:
    table = read_csv_table(path, ConfigError)
    if "prompt" not in table.header:
        raise ConfigError("missing column 'prompt'", location=Location(path, 0),
                          hint=f"a prompt collection has columns doc_class, question_type, prompt "
                          f"(or VLMHyperBench's prompt, {KEY_COLUMN})")
    problems: list[Problem] = []
    rules: list[PromptRule] = []
    by_key: dict[str, str] = {}
    for number, cells in table.rows:
        template = cells.get("prompt", "")
        if KEY_COLUMN in table.header:
            if not template:
                problems.append(Problem("empty prompt", Location(path, number, "prompt")))
            by_key.setdefault(cells[KEY_COLUMN], template)
        elif "{question}" not in template:
            problems.append(Problem("a prompt must contain {question}", Location(path, number, "prompt")))
        else:
            rules.append(PromptRule(doc_class=cells.get("doc_class") or None,
                                    question_type=cells.get("question_type") or None, template=template))
    if problems:
        raise ConfigError.from_problems(problems)
    return PromptCollection(path=path, rules=rules, by_key=by_key)


def _find(cell: str, what: str, folders: tuple[str, ...], base_dir: Path, root: Path | None,
          task: str | None) -> Path:
    """A file a cell names: beside the run CSV, from the working directory, then under the data root."""
    given = expand_user(cell)
    looked = [given] if given.is_absolute() else [base_dir / given, Path.cwd() / given]
    try:
        if root is not None and not given.is_absolute():
            looked += candidates(root, folders, cell, task)
        found = next((path for path in looked if path.is_file()), None)
    except (OSError, ValueError) as exc:  # a name too long, a folder not readable
        raise ConfigError(f"{what} {shorten(cell)} cannot be used: {os_reason(exc)}") from None
    if found is not None:
        return found.resolve()
    if root is None:
        hint = f"give a path, or for a VLMHyperBench name {root_hint(base_dir)}"
    else:

        hint = suggest(cell, known_files(root, folders, task))
    tried = ", ".join(clip(str(p)) for p in dict.fromkeys(looked))
    raise ConfigError(f"{what} not found: {clip(cell)} (looked at {tried})", hint=hint)


def find_prompt_collection(cell: str, base_dir: Path, root: Path | None,
                           task: str | None) -> PromptCollection:
    return read_prompt_collection(_find(cell, "prompt collection", PROMPT_COLLECTIONS, base_dir, root, task))


def read_system_prompt(cell: str | None, base_dir: Path, root: Path | None, task: str | None) -> str | None:
    """The system prompt a cell gives: a named file's text, or the cell itself.

    The whole file, less a BOM and trailing line breaks, line ends read as
    ``\n``. VLMHyperBench's SystemPromptAdapter reads the first line only (its
    runner never passed it on), which would cut a multi-line prompt short
    without a word.
    """
    if not cell or not _FILE_NAME.fullmatch(cell):
        return cell
    path = _find(cell, "system prompt file", SYSTEM_PROMPTS, base_dir, root, task)
    try:
        text = decode_text(read_regular(path, ConfigError, "system prompt file", MAX_SYSTEM_PROMPT_BYTES))
        text = text.rstrip("\n")
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", location=Location(path), hint="save the file as UTF-8") from None
    if not text.strip():
        raise ConfigError("the system prompt file is empty", location=Location(path),
                          hint="write the prompt in it, or leave the system_prompt cell blank")
    return text
