"""Reading a docker run's answers back, and comparing two engines' greedy answers."""

from __future__ import annotations

import json
from pathlib import Path

from vlmbench.rundir import JobDir

Answer = tuple[str, str | None, str | None]  # (sample id, answer, error)


def run_jobs(run_dir: Path) -> list[dict]:
    return json.loads((run_dir / "run.json").read_text())["jobs"]


def answers_by_row(run_dir: Path) -> dict[tuple[str, str], list[Answer]]:
    """Per (model, framework): (id, answer, error) of every prediction, in order."""
    found = {}
    for job in run_jobs(run_dir):
        row = job["config_row"]
        predictions = JobDir(run_dir / "jobs" / job["job_id"]).read_predictions()
        found[row["model_name"], row["framework"]] = [(p.id, p.answer, p.error) for p in predictions]
    return found


def same_tokens(vllm_answer: str, transformers_answer: str) -> bool:
    """Whether two answers are the same generated tokens, decoded by each engine its own way.

    They differ only at the end: when the token limit stops generation in the
    middle of a character's UTF-8 bytes (the tiny random models mix Cyrillic
    into everything), transformers decodes the last token with U+FFFD and
    vLLM's incremental detokenizer leaves that whole token out. One token of
    the tiny 700-token vocabularies is a few characters at most.
    """
    if vllm_answer == transformers_answer:
        return True
    withheld = transformers_answer.removeprefix(vllm_answer)
    return withheld != transformers_answer and withheld.endswith("\ufffd") and len(withheld) <= 8


def job_status(run_dir: Path, model_name: str, framework: str) -> dict:
    """A job's status.json (its state, and its error when it failed), for assertion messages."""
    [job] = [job for job in run_jobs(run_dir)
             if (job["config_row"]["model_name"], job["config_row"]["framework"]) == (model_name, framework)]
    path = run_dir / "jobs" / job["job_id"] / "status.json"
    return json.loads(path.read_text()) if path.exists() else {"state": "no status.json"}
