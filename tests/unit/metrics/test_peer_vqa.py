"""VQA accuracy side by side with lmms-eval's and VLMEvalKit's own code.

``vqa_score`` must equal lmms-eval's VQAv2 and TextVQA per-question
accuracy and VLMEvalKit's VQA score on shared ten-annotator cases;
``textvqa_score`` must equal lmms-eval's TextVQA and VizWiz scoring (the
EvalAI tokenising step) everywhere. The normaliser is also compared with
the peers' on every word of the official contraction table and on random
strings. Where the peers disagree with each other, a test says which one
we follow.
"""

from __future__ import annotations

import random
import re

import pytest

from tests.peers import load_peer_module, stub_module
from vlmbench.datasets.schema import Sample
from vlmbench.metrics import get_metric, normalize_vqa_answer, vqa_score
from vlmbench.metrics.vqa import textvqa_score

VQA_EVAL_METRIC = "lmms_eval/tasks/_task_utils/vqa_eval_metric.py"


def lmms_stubs() -> dict:
    packages = ["lmms_eval", "lmms_eval.tasks", "lmms_eval.tasks._task_utils"]
    stubs = {name: stub_module(name) for name in packages}
    stubs["lmms_eval.tasks._task_utils.file_utils"] = stub_module(
        "lmms_eval.tasks._task_utils.file_utils", generate_submission_file=None)
    stubs["loguru"] = stub_module("loguru", logger=None)
    return stubs


def lmms_task(task: str):
    """A task's utils.py, with the real EvalAIAnswerProcessor it imports."""
    return load_peer_module("lmms-eval", f"lmms_eval/tasks/{task}/utils.py", lmms_stubs(),
                            extra_members=(VQA_EVAL_METRIC,))


@pytest.fixture(scope="module")
def lmms():
    return {task: lmms_task(task) for task in ("vqav2", "textvqa", "vizwiz_vqa")}


@pytest.fixture(scope="module")
def processor():
    return load_peer_module("lmms-eval", VQA_EVAL_METRIC).EvalAIAnswerProcessor()


@pytest.fixture(scope="module")
def vlmeval():
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


def lmms_vqav2(module, prediction: str, answers: list[str]) -> float:
    # VQAv2 rows hold answer dicts; their distinct answer_id keeps equal
    # answers apart when the script leaves one annotator out.
    doc = {"question_id": 1, "answers": [{"answer": a, "answer_confidence": "yes", "answer_id": i + 1}
                                         for i, a in enumerate(answers)]}
    return module.vqav2_process_results(doc, [prediction])["exact_match"]


def lmms_textvqa(module, prediction: str, answers: list[str]) -> float:
    return module.textvqa_process_results({"question_id": 1, "answers": list(answers)},
                                          [prediction])["exact_match"]


def lmms_vizwiz(module, prediction: str, answers: list[str]) -> float:
    return module.vizwiz_vqa_process_results({"question_id": 1, "answers": list(answers)},
                                             [prediction])["exact_match"]


def vlmeval_score(module, prediction: str, answers: list[str]) -> float:
    line = module.process_line({"answer": repr(answers), "prediction": prediction}, method="vqa_score")
    return float(module.hit_calculate([line], "TextVQA")[0])


def sample(answers: list[str]) -> Sample:
    return Sample(id="v", question="q", answer=answers[0], metadata={"answers": answers})


def same(a: float, b: float) -> bool:
    # The peers average ten floats (statistics.mean, np.mean); we divide
    # whole credits once. The figures agree to the last bits.
    return abs(a - b) <= 1e-12


# --- shared cases -------------------------------------------------------------

HAND_WRITTEN = [
    ("Yes.", ["yes"] * 10),
    ("yes", ["yes"] * 7 + ["no"] * 3),
    ("Yes!", ["yes"] * 2 + ["yeah"] * 8),
    ("no", ["yes"] * 10),
    ("two", ["2"] * 3 + ["two"] * 2 + ["3"] * 5),
    ("2", ["two"] * 10),
    ("2,000", ["2000"] * 4 + ["2,000"] * 2 + ["about 2000"] * 4),
    ("2000", ["2,000"] * 10),
    ("3.5", ["3.5"] * 2 + ["3.50"] * 8),
    ("the dog", ["dog"] * 3 + ["a dog"] * 3 + ["puppy"] * 4),
    ("The Dog.", ["dog"] * 10),
    ("dont", ["don't"] * 4 + ["no"] * 6),
    ("don't know", ["dont know"] * 2 + ["unknown"] * 8),
    ("x-ray", ["x ray"] * 5 + ["xray"] * 5),
    ("x ray", ["x-ray"] * 10),
    ("red and white", ["red, white"] * 3 + ["red and white"] * 7),
    ("none", ["0"] * 6 + ["nothing"] * 4),
    ("ten", ["10"] * 1 + ["ten"] * 9),
    ("Its a cat.", ["cat"] * 10),
    ("black/white", ["black and white"] * 5 + ["black white"] * 5),
    ("\tcat\n", ["cat"] * 10),
    ("what'll", ["whatll"] * 10),
    ("youre right", ["you're right"] * 10),
    ("12:30", ["12:30"] * 6 + ["1230"] * 4),  # ":" is not in the list
    ("$5.00", ["5"] * 3 + ["$5"] * 7),
    ("", ["yes"] * 10),
    ("Москва", ["москва"] * 5 + ["Москва!"] * 5),
    ("yes" + "." * 40, ["yes"] * 10),  # only 32 periods go: "yes........" is not "yes"
]

PREDICTIONS = ["yes", "Yes.", "no", "two", "2", "3", "three", "2,000", "2000", "3.5", "the dog", "a dog",
               "dog", "dont", "don't", "red", "Red!", "x-ray", "blue/green", "none", "0", "ten", "cat ",
               "A Cat", "(yes)", "white and red", "Москва", "у окна"]


def generated_cases(seed: int, count: int) -> list[tuple[str, list[str]]]:
    """Ten annotators drawn from a few related answers, so agreement varies."""
    rng = random.Random(seed)
    cases = []
    for _ in range(count):
        pool = rng.sample(PREDICTIONS, rng.randint(1, 4))
        answers = [rng.choice(pool) for _ in range(10)]
        cases.append((rng.choice(pool + [rng.choice(PREDICTIONS)]), answers))
    return cases


CASES = HAND_WRITTEN + generated_cases(seed=11, count=300)


def test_the_cases_cover_every_credit_level():
    levels = {round(vqa_score(prediction, sample(answers)), 6) for prediction, answers in CASES}
    assert {0.0, 0.3, 0.6, 0.9, 1.0} <= levels


def test_vqa_score_equals_lmms_eval_and_vlmevalkit(lmms, vlmeval):
    for prediction, answers in CASES:
        ours = vqa_score(prediction, sample(answers))
        assert same(ours, lmms_vqav2(lmms["vqav2"], prediction, answers)), (prediction, answers)
        assert same(ours, lmms_textvqa(lmms["textvqa"], prediction, answers)), (prediction, answers)
        assert same(ours, vlmeval_score(vlmeval, prediction, answers)), (prediction, answers)
        assert same(textvqa_score(prediction, sample(answers)), ours)


# --- where the peers disagree ----------------------------------------------------


@pytest.mark.parametrize(
    ("prediction", "answers"),
    [
        ("john's", ["john 's"] * 10),  # EvalAI splits "'s" off: "john 's"
        ("a,b", ["ab"] * 10),  # EvalAI drops every comma; VQAv2 spaces a glued one
        ("what?why", ["whatwhy"] * 10),
        ("man's hat", ["man 's hat"] * 10),
        ("1,,2", ["12"] * 10),
    ],
)
def test_textvqa_score_equals_the_evalai_scoring(lmms, prediction, answers):
    ours = textvqa_score(prediction, sample(answers))
    assert same(ours, lmms_textvqa(lmms["textvqa"], prediction, answers))
    assert same(ours, lmms_vizwiz(lmms["vizwiz_vqa"], prediction, answers))
    assert not same(ours, vqa_score(prediction, sample(answers)))  # the cases where the two differ


def test_a_period_after_a_digit_follows_the_official_rule(lmms, vlmeval):
    """The official pattern drops "3." 's period; VLMEvalKit's rewritten one keeps it."""
    answers = ["3"] * 10
    assert vqa_score("3.", sample(answers)) == 1.0
    assert lmms_vqav2(lmms["vqav2"], "3.", answers) == 1.0
    assert vlmeval_score(vlmeval, "3.", answers) == 0.0


def test_a_doubled_comma_between_digits_follows_the_official_rule(lmms, vlmeval):
    """Official and VLMEvalKit look for one comma between digits; lmms-eval for a run of them."""
    answers = ["1 2"] * 10  # no comma sits alone between digits, so each becomes a space
    assert vqa_score("1,,2", sample(answers)) == 1.0
    assert vlmeval_score(vlmeval, "1,,2", answers) == 1.0
    assert lmms_vqav2(lmms["vqav2"], "1,,2", answers) == 0.0  # it deletes them: "12"


def test_fewer_than_four_annotators_is_where_we_differ(lmms, vlmeval):
    """The peers always divide by 3, so three agreeing annotators give 2/3 and one gives 0."""
    assert vqa_score("cat", sample(["cat"] * 3)) == 1.0
    assert same(lmms_vqav2(lmms["vqav2"], "cat", ["cat"] * 3), 2 / 3)
    assert vqa_score("cat", sample(["cat"])) == 1.0
    assert vlmeval_score(vlmeval, "cat", ["cat"]) == 0.0
    # from four annotators on, the rules coincide
    assert same(vqa_score("cat", sample(["cat"] * 2 + ["dog"] * 2)),
                lmms_vqav2(lmms["vqav2"], "cat", ["cat"] * 2 + ["dog"] * 2))


# --- the normaliser itself -----------------------------------------------------------


def lmms_normalize(processor, text: str) -> str:
    text = text.replace("\n", " ").replace("\t", " ").strip()
    return processor.process_digit_article(processor.process_punctuation(text))


def test_every_contraction_and_number_word_normalises_as_the_peers(processor, vlmeval):
    # (NUMBER_MAP grows identity entries as the peer runs: take the real ones)
    numbers = [word for word, digit in processor.NUMBER_MAP.items() if word != digit]
    words = [*processor.CONTRACTIONS, *processor.CONTRACTIONS.values(), *numbers, "a", "an", "the"]
    assert len(numbers) == 12  # none, zero, one ... ten
    assert len(processor.CONTRACTIONS) == 120  # the whole official table is exercised
    for word in words:
        for text in (word, f"the {word} one", word.upper()):
            ours = normalize_vqa_answer(text)
            assert ours == lmms_normalize(processor, text), text
            assert ours == vlmeval.process_answer(text), text
            assert normalize_vqa_answer(text, tokenize=True) == processor(text), text


ALPHABET = "abs c1 2.,;/[]\"{}()=+\\_-><@`?!:'\n\tЯё" + "  "


def random_texts(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 14))) for _ in range(count)]


@pytest.mark.parametrize("seed", range(4))
def test_random_strings_normalise_as_the_peers(processor, vlmeval, seed):
    for text in random_texts(seed, 500):
        ours = normalize_vqa_answer(text)
        assert normalize_vqa_answer(text, tokenize=True) == processor(text), text
        if not re.search(r"\d,,+\d", text):  # lmms-eval's comma pattern, see above
            assert ours == lmms_normalize(processor, text), text
        if not re.search(r"\d\.(?!\d)", text):  # VLMEvalKit's period pattern, see above
            assert ours == vlmeval.process_answer(text), text


def test_textvqa_score_is_registered():
    assert get_metric("TextVQA").name == "textvqa_score"
    assert get_metric("vizwiz-score").higher_is_better
