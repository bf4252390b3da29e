"""Answer-letter extraction side by side with the peers' own parsers, on labelled replies.

tests/data/mc_replies.jsonl holds realistic replies of VLMs to multiple-choice
prompts (bare letters, "(B) dog", "Answer: b", markdown, option text only,
reasoning then a final answer, Russian with Cyrillic look-alike letters,
refusals, several letters), each with its options and the letter a reader
takes it to pick, or null where it picks no single option.

The peers' parsers run from their PyPI wheels (tests/peers.py): VLMEvalKit's
``can_infer`` and its two halves (vlmeval/utils/matching_util.py, only its
logger import stubbed) and three of lmms-eval's: the MMMU parser
``parse_mmmu_multi_choice_response`` (which many lmms-eval tasks call as
``parse_multi_choice_response``), ``extract_mcq_answer`` and the generic
``MultiChoiceRegexFilter`` with the two configurations its task YAMLs use.

A reply counts as read correctly when the parser returns its letter, or, for
a reply that picks no single option, when it returns nothing (VLMEvalKit's
False or its refusal mark "Z", lmms-eval's "" or "[invalid]"). The MMMU
parser guesses at random when it finds nothing; it is counted twice: once
with its guesses (random.Random(0) in file order) taken as answers, once
with a guess taken as abstention.
"""

from __future__ import annotations

import json
import logging
import random
import types
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.peers import load_peer_module, stub_module
from vlmbench.metrics.choice import extract_choice

REPLIES = Path(__file__).parents[2] / "data" / "mc_replies.jsonl"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

Parser = Callable[[str, list[str]], "str | None"]
BatchParser = Callable[[list[dict]], "list[str | None]"]  # all replies at once


def load_replies() -> list[dict]:
    return [json.loads(line) for line in REPLIES.read_text(encoding="utf-8").splitlines() if line.strip()]


def _options(choices: list[str]) -> dict[str, str]:
    return {LETTERS[i]: choice for i, choice in enumerate(choices)}


def vlmevalkit_parsers() -> dict[str, Parser]:
    matching = load_peer_module("vlmevalkit", "vlmeval/utils/matching_util.py", stubs={
        "vlmeval.smp.log": stub_module("vlmeval.smp.log", get_logger=logging.getLogger)})

    def wrap(function) -> Parser:
        def parse(reply: str, choices: list[str]) -> str | None:
            found = function(reply, _options(choices))  # a fresh dict: can_infer_text lower-cases it in place
            return None if found in (False, "Z") else found
        return parse

    return {f"VLMEvalKit {name}": wrap(getattr(matching, name))
            for name in ("can_infer", "can_infer_option", "can_infer_text")}


def lmms_eval_parsers() -> dict[str, Parser | BatchParser]:
    mmmu = load_peer_module("lmms-eval", "lmms_eval/tasks/_task_utils/mmmu_mcq_utils.py")
    mcq = load_peer_module("lmms-eval", "lmms_eval/tasks/_task_utils/mcq_extract.py")

    class Filter:  # lmms_eval.api.filter.Filter is an empty base class
        def __init__(self, *args, **kwargs) -> None:
            pass

    extraction = load_peer_module("lmms-eval", "lmms_eval/filters/extraction.py", stubs={
        "lmms_eval.api.filter": stub_module("lmms_eval.api.filter", Filter=Filter)})

    def mmmu_parser(guess: Callable[[list[str]], str | None]) -> Parser:
        def parse(reply: str, choices: list[str]) -> str | None:
            index2ans, all_choices = mmmu.get_multi_choice_info(choices)
            real_random, mmmu.random = mmmu.random, types.SimpleNamespace(choice=guess)
            try:
                return mmmu.parse_mmmu_multi_choice_response(reply, all_choices, index2ans)
            finally:
                mmmu.random = real_random
        return parse

    def regex_filter(pattern: str) -> BatchParser:
        # As the task YAMLs configure it (sat, worldqa: "(\([A-Z]\))"; ai2d, muirbench: "([A-Z])\.").
        # One call for all replies, as lmms-eval makes it: each call tabulates all Unicode punctuation.
        extractor = extraction.MultiChoiceRegexFilter(regex_pattern=pattern, group_select=0, ignore_case=True,
                                                      ignore_punctuation=True)

        def parse(replies: list[dict]) -> list[str | None]:
            docs = [{"choices": r["choices"]} for r in replies]
            found = extractor.apply([[r["reply"]] for r in replies], docs)
            return [None if f[0] == "[invalid]" else f[0].strip("()").upper() for f in found]
        parse.batch = True
        return parse

    seeded = random.Random(0)
    return {
        "lmms-eval MMMU parser, guesses kept (seed 0)": mmmu_parser(seeded.choice),
        "lmms-eval MMMU parser, guess = abstain": mmmu_parser(lambda letters: None),
        "lmms-eval extract_mcq_answer": lambda reply, choices: mcq.extract_mcq_answer(
            reply, list(LETTERS[: len(choices)])) or None,
        r"lmms-eval MultiChoiceRegexFilter '(\([A-Z]\))'": regex_filter(r"(\([A-Z]\))"),
        r"lmms-eval MultiChoiceRegexFilter '([A-Z])\.'": regex_filter(r"([A-Z])\."),
    }


def tally(parser: Parser | BatchParser, replies: list[dict]) -> dict[str, int]:
    counts = {"correct": 0, "wrong_letter": 0, "missed": 0, "letter_on_null": 0}
    if getattr(parser, "batch", False):
        answers = parser(replies)
    else:
        answers = [parser(r["reply"], r["choices"]) for r in replies]
    for reply, found in zip(replies, answers, strict=True):
        intended = reply["answer"]
        if found == intended:
            counts["correct"] += 1
        elif intended is None:
            counts["letter_on_null"] += 1
        elif found is None:
            counts["missed"] += 1
        else:
            counts["wrong_letter"] += 1
    return counts


def comparison(replies: list[dict]) -> dict[str, dict[str, int]]:
    parsers: dict[str, Parser | BatchParser] = {"vlmbench extract_choice": extract_choice}
    parsers |= vlmevalkit_parsers() | lmms_eval_parsers()
    return {name: tally(parser, replies) for name, parser in parsers.items()}


def table(results: dict[str, dict[str, int]], total: int, n_null: int) -> str:
    lines = [f"{'parser':50} {'correct':>9} {'wrong letter':>13} {'missed':>7} {'letter where null':>18}"]
    for name, c in results.items():
        lines.append(f"{name:50} {c['correct']:>4}/{total:<4} {c['wrong_letter']:>13} {c['missed']:>7} "
                     f"{c['letter_on_null']:>11}/{n_null}")
    return "\n".join(lines)


def test_the_labelled_replies_cover_the_styles_asked_for():
    replies = load_replies()
    assert len(replies) >= 150
    styles = {r["style"] for r in replies}
    assert {"bare", "paren", "answer", "markdown", "option_text", "letter_text", "letter_then_reason",
            "reasoning_then_answer", "lowercase", "russian", "refusal", "several"} <= styles
    assert sum(r["answer"] is None for r in replies) >= 30
    for r in replies:
        assert r["answer"] is None or r["answer"] in LETTERS[: len(r["choices"])], r
    # Cyrillic В (U+0412), not Latin B, where the label says so.
    assert any("\u0412" in r["reply"] and r["answer"] == "B" for r in replies)


@pytest.mark.filterwarnings("ignore:invalid escape sequence:DeprecationWarning")  # in lmms-eval's source
def test_extraction_reads_at_least_as_many_replies_as_every_peer_parser():
    replies = load_replies()
    n_null = sum(r["answer"] is None for r in replies)
    results = comparison(replies)
    report = table(results, len(replies), n_null)
    ours = results.pop("vlmbench extract_choice")
    best_name, best = max(results.items(), key=lambda item: item[1]["correct"])
    assert ours["correct"] >= best["correct"], f"{best_name} reads more replies than vlmbench:\n{report}"
    assert ours["letter_on_null"] == 0, f"vlmbench picked a letter where the reply picks none:\n{report}"
    # The peer parsers did run: each reads a fair share, so a broken load would show.
    assert all(c["correct"] >= 60 for c in results.values()), report


def test_vlmbench_abstains_on_every_reply_that_picks_no_single_option():
    wrong = [(r["reply"], extract_choice(r["reply"], r["choices"])) for r in load_replies()
             if r["answer"] is None and extract_choice(r["reply"], r["choices"]) is not None]
    assert wrong == []


if __name__ == "__main__":  # python -m tests.unit.metrics.test_peer_choice: print the table
    rows = load_replies()
    print(table(comparison(rows), len(rows), sum(r["answer"] is None for r in rows)))
