"""ANLS, CER, WER and exact match side by side with the peers' own code.

ANLS must equal lmms-eval's ``anls`` metric and VLMEvalKit's DocVQA scoring
(both run the DocVQA evaluation's rule) on every case; CER and WER must
equal jiwer's. Where vlmbench deliberately differs (whitespace runs before
CER/WER, an empty reference, exact match's normalisation), a test pins the
difference so that it stays a decision, not an accident.
"""

from __future__ import annotations

import random

import jiwer
import pytest

from tests.peers import load_peer_module, stub_module
from vlmbench.datasets.schema import Sample
from vlmbench.metrics import anls, cer, exact_match, wer


def identity_decorator(*args, **kwargs):
    return lambda fn: fn


@pytest.fixture(scope="module")
def lmms_metrics():
    registry = stub_module("lmms_eval.api.registry", register_aggregation=identity_decorator,
                           register_metric=identity_decorator)
    stubs = {"lmms_eval": stub_module("lmms_eval"), "lmms_eval.api": stub_module("lmms_eval.api"),
             "lmms_eval.api.registry": registry}
    return load_peer_module("lmms-eval", "lmms_eval/api/metrics.py", stubs)


@pytest.fixture(scope="module")
def vlmeval_vqa():
    # vqa_eval.py takes istype, listinstr and process_punctuation from
    # vlmeval.smp; the real ones come from smp/misc.py, whose imports for
    # other helpers (Hugging Face cache, terminal colours) are stood in for.
    misc = load_peer_module("vlmevalkit", "vlmeval/smp/misc.py", {
        "huggingface_hub.utils._cache_manager": stub_module("huggingface_hub.utils._cache_manager",
                                                            _scan_cached_repo=None),
        "sty": stub_module("sty", fg=None),
    })
    smp = stub_module("vlmeval.smp", **{name: getattr(misc, name) for name in
                                        ("istype", "listinstr", "process_punctuation")})
    return load_peer_module("vlmevalkit", "vlmeval/dataset/utils/vqa_eval.py", {
        "vlmeval": stub_module("vlmeval"), "vlmeval.smp": smp,
    })


def sample(references: list[str]) -> Sample:
    return Sample(id="s", question="q", answer=references[0], metadata={"answers": references[1:]})


def lmms_anls(module, prediction: str, references: list[str]) -> float:
    return module.anls(references, [prediction])["anls"]


def vlmeval_anls(module, prediction: str, references: list[str]) -> float:
    # Its TSVs hold a list of answers as the list's Python repr.
    line = module.process_line({"answer": repr(references), "prediction": prediction}, method="anls")
    return float(module.hit_calculate([line], "DocVQA")[0])


# --- shared cases ------------------------------------------------------------

HAND_WRITTEN = [
    ("hello", ["hello"]),
    ("HELLO", ["hello"]),
    ("  Hello   World ", ["hello world"]),  # raw lengths 16 and 11 divide, not 11 and 11
    ("helo", ["hello"]),
    ("ab", ["abcd"]),  # similarity exactly 0.5: kept
    ("abc", ["abcdef"]),
    ("ab", ["abcde"]),  # 0.4: scores 0
    ("a\tb\nc", ["a b c"]),
    ("", ["hello"]),
    ("hello", [""]),
    ("", [""]),
    ("   ", [""]),  # normalises to "" but the raw length is 3
    ("straße", ["STRASSE"]),  # lower keeps ß
    ("ß", ["s"]),  # uppercased, ß is 2 long
    ("İstanbul", ["istanbul"]),  # "İ".lower() is two characters
    ("ﬁle", ["file"]),  # the ligature uppercases to "FI"
    ("Ёлка", ["елка"]),
    ("ИНН 7701234567", ["инн 7701234567"]),
    ("Итого: 1 250,00 руб.", ["1250,00", "1 250,00 руб.", "итого 1250"]),
    ("1200", ["1 200 RUB", "1200 RUB", "1200"]),
    ("Denver Broncos", ["Denver Broncos", "Denver R. Broncos"]),
    ("Dear dr. Lobo", ["Dear Dr. Lobo", "Dr. Lobo"]),
    ("12/15/89", ["12/15/88"]),
    ("cat", ["dog", "cart", "caat"]),
]


def near_miss(rng: random.Random, text: str) -> str:
    """``text`` with a few random edits, case flips and spacing changes."""
    chars = list(text)
    for _ in range(rng.randint(0, 4)):
        i = rng.randint(0, len(chars))
        kind = rng.random()
        if kind < 0.3 and i < len(chars):
            chars[i] = rng.choice("aeoxyзжя0 ")
        elif kind < 0.5 and i < len(chars):
            del chars[i]
        elif kind < 0.7:
            chars.insert(i, rng.choice("bcdйцу1 \t"))
        elif i < len(chars):
            chars[i] = chars[i].swapcase()
    return rng.choice(["", " ", "  "]) + "".join(chars) + rng.choice(["", " ", "\n"])


PHRASES = [
    "Total amount", "Invoice No. 4521", "ООО «Ромашка»", "Итого к оплате", "12.05.2023",
    "John Smith", "Москва, ул. Ленина, д. 5", "ab", "", "yes", "ИНН 7701234567", "3 шт.",
]


def generated_cases(seed: int, count: int) -> list[tuple[str, list[str]]]:
    rng = random.Random(seed)
    cases = []
    for _ in range(count):
        truth = rng.choice(PHRASES)
        references = [truth] + [near_miss(rng, truth) for _ in range(rng.choice([0, 0, 1, 2]))]
        said = truth if rng.random() < 0.8 else rng.choice(PHRASES)  # sometimes a wrong answer
        cases.append((near_miss(rng, said), references))
    return cases


CASES = HAND_WRITTEN + generated_cases(seed=7, count=400)


def test_generated_cases_cover_both_sides_of_the_threshold():
    """The random cases are near misses: many score between 0.5 and 1, many score 0."""
    scores = [anls(prediction, sample(references)) for prediction, references in CASES]
    assert sum(0.5 <= s < 1 for s in scores) > 100
    assert sum(s == 0 for s in scores) > 20
    assert sum(s == 1 for s in scores) > 20


def test_anls_equals_lmms_eval_and_vlmevalkit(lmms_metrics, vlmeval_vqa):
    for prediction, references in CASES:
        ours = anls(prediction, sample(references))
        assert ours == lmms_anls(lmms_metrics, prediction, references), (prediction, references)
        assert ours == vlmeval_anls(vlmeval_vqa, prediction, references), (prediction, references)


def test_the_old_rule_would_have_differed(lmms_metrics):
    """Normalised lengths, casefold or a strict threshold each change these scores."""
    assert lmms_anls(lmms_metrics, "ab", ["abcd"]) == anls("ab", sample(["abcd"])) == 0.5
    assert lmms_anls(lmms_metrics, "  Hello   World ", ["hello world"]) == pytest.approx(1.0)
    assert lmms_anls(lmms_metrics, "ß", ["s"]) == anls("ß", sample(["s"])) == 0.5


# --- CER / WER against jiwer ------------------------------------------------------

JIWER_CASES = [
    ("kitten", "sitting"),
    ("lawn", "flaw"),
    ("the cat sat on the mat", "the cat sit on mat"),
    ("i love cats", "i love dogs too"),
    ("ab", "abcdef"),
    ("hello world", ""),
    ("Счёт № 15 от 12.05.2023", "Счет №15 от 12.05.2О23"),
    ("Hello", "hello"),
    ("a", "a b c d"),
]


def jiwer_cases(seed: int, count: int) -> list[tuple[str, str]]:
    """Single-spaced, trimmed pairs: the strings on which we promise jiwer's numbers."""
    rng = random.Random(seed)
    cases = []
    for _ in range(count):
        reference = rng.choice([p for p in PHRASES if p])
        cases.append((reference, " ".join(near_miss(rng, reference).split())))
    return cases


@pytest.mark.parametrize(("reference", "hypothesis"), JIWER_CASES + jiwer_cases(seed=3, count=300))
def test_cer_and_wer_equal_jiwer(reference, hypothesis):
    assert cer(hypothesis, sample([reference])) == jiwer.cer(reference, hypothesis)
    assert wer(hypothesis, sample([reference])) == jiwer.wer(reference, hypothesis)


def test_whitespace_runs_are_where_we_differ_from_jiwer():
    # jiwer counts the inner double space and the newline; we collapse them first,
    # so a reference's line breaks do not count against a one-line answer.
    assert jiwer.cer("total:  42\nRUB", "total: 42 RUB") > 0
    assert cer("total: 42 RUB", sample(["total:  42\nRUB"])) == 0.0
    assert jiwer.wer("total: 42\nRUB", "total: 42 RUB") > 0  # "42\nRUB" is one word to jiwer
    assert wer("total: 42 RUB", sample(["total: 42\nRUB"])) == 0.0


def test_empty_reference_is_where_we_differ_from_jiwer():
    # jiwer 4 returns the number of inserted characters or words (older
    # versions raised); a rate is bounded here so one sample cannot swamp a mean.
    assert jiwer.cer("", "abc") == 3
    assert cer("abc", sample([""])) == 1.0
    assert jiwer.wer("", "a b c") == 3
    assert wer("a b c", sample([""])) == 1.0
    assert jiwer.cer("", "") == cer("", sample([""])) == 0.0


# --- exact match ------------------------------------------------------------------


def lmms_exact_match(module, prediction: str, reference: str, **options) -> float:
    return float(module.exact_match_hf_evaluate(predictions=[prediction], references=[reference], **options)
                 ["exact_match"])


def vlmeval_accuracy(module, prediction: str, reference: str) -> float:
    line = module.process_line({"answer": reference, "prediction": prediction}, method="accuracy")
    return float(module.hit_calculate([line], "ChartQA")[0])


@pytest.mark.parametrize(
    ("prediction", "reference"),
    [("Paris", "Paris"), ("paris", "Paris"), ("Pari", "Paris"), ("", "Paris"), ("42", "42"),
     ("C++", "C++"), ("Москва", "москва"), ("1 200", "1200")],
)
def test_exact_match_agrees_with_the_peers_on_plain_answers(lmms_metrics, vlmeval_vqa, prediction, reference):
    ours = exact_match(prediction, sample([reference]))
    assert ours == lmms_exact_match(lmms_metrics, prediction, reference, ignore_case=True)
    assert ours == vlmeval_accuracy(vlmeval_vqa, prediction, reference)


@pytest.mark.parametrize(
    ("prediction", "reference", "ours", "lmms_default", "lmms_case_punct", "vlmeval"),
    [
        ("PARIS", "Paris", 1.0, 0.0, 1.0, 1.0),  # lmms-eval's default is case-sensitive
        ("Paris.", "Paris", 1.0, 0.0, 1.0, 0.0),  # a final sentence mark: we drop it
        ("New  York", "New York", 1.0, 0.0, 0.0, 0.0),  # inner whitespace: we collapse it
        ("１２３", "123", 1.0, 0.0, 0.0, 0.0),  # full-width digits: we apply NFKC
        ("Straße", "STRASSE", 1.0, 0.0, 0.0, 0.0),  # we casefold, they lowercase
        ("C", "C++", 0.0, 0.0, 1.0, 0.0),  # punctuation inside an answer counts for us
        ("USA", "U.S.A.", 0.0, 0.0, 1.0, 0.0),
    ],
)
def test_exact_match_differences_from_the_peers(lmms_metrics, vlmeval_vqa, prediction, reference, ours,
                                                lmms_default, lmms_case_punct, vlmeval):
    assert exact_match(prediction, sample([reference])) == ours
    assert lmms_exact_match(lmms_metrics, prediction, reference) == lmms_default
    assert lmms_exact_match(lmms_metrics, prediction, reference, ignore_case=True,
                            ignore_punctuation=True) == lmms_case_punct
    assert vlmeval_accuracy(vlmeval_vqa, prediction, reference) == vlmeval
