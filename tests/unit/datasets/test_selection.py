"""Choosing a job's samples (first N, seeded stratified sample) and fingerprinting what they hold."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from vlmbench.datasets import (
    Sample,
    describe_selection,
    inputs_fingerprint,
    references_changed,
    references_fingerprint,
    select_samples,
    selected_samples,
)
from vlmbench.datasets.selection import selection_text, stratified_allocation
from vlmbench.errors import DatasetError
from vlmbench.rundir.records import DatasetRef

ROOT = Path(__file__).resolve().parents[3]


def make_samples(sizes: dict[str | None, int], interleave: bool = True) -> list[Sample]:
    """Samples of the given doc classes, mixed through the list as a real dataset's are."""
    if interleave:  # a, b, c, a, b, c, ... until each class runs out
        order = sorted(((i, cls) for cls, n in sizes.items() for i in range(n)),
                       key=lambda pair: (pair[0], list(sizes).index(pair[1])))
    else:  # every a, then every b, ...
        order = [(i, cls) for cls, n in sizes.items() for i in range(n)]
    return [Sample(id=f"{cls}-{i}", question="q?", answer="a", doc_class=cls,
                   question_type="field" if position % 2 else "full_text")
            for position, (i, cls) in enumerate(order)]


# --- allocation ----------------------------------------------------------------------------------------


def test_allocation_is_proportional_with_largest_remainders() -> None:
    assert stratified_allocation([50, 30, 20], 10) == [5, 3, 2]
    # quotas 3.5, 2.1, 1.4 -> floors 3, 2, 1 and the one left goes to the largest remainder (0.5)
    assert stratified_allocation([50, 30, 20], 7) == [4, 2, 1]
    # equal remainders: the class met first wins
    assert stratified_allocation([10, 10], 3) == [2, 1]
    assert sum(stratified_allocation([7, 13, 1, 979], 123)) == 123


def test_allocation_gives_every_class_one_when_n_allows() -> None:
    # 1 of 1000 is 0.1 of 10: proportionally nothing, but n >= 3 classes so it gets one
    alloc = stratified_allocation([900, 99, 1], 10)
    assert alloc[2] == 1 and sum(alloc) == 10 and alloc == [8, 1, 1]
    # fewer than the classes: the largest classes win, nobody is forced in
    assert stratified_allocation([900, 99, 1], 2) == [2, 0, 0]
    assert stratified_allocation([5, 5, 5], 2) == [1, 1, 0]
    assert stratified_allocation([3, 1], 4) == [3, 1]
    with pytest.raises(ValueError):
        stratified_allocation([3, 1], 5)


# --- the seeded sample ---------------------------------------------------------------------------------


def test_sample_is_stratified_in_dataset_order_and_seeded() -> None:
    samples = make_samples({"invoice": 600, "receipt": 300, "passport": 90, "rare": 10})
    drawn = select_samples(samples, sample=100, seed=0)
    assert len(drawn) == 100
    assert Counter(s.doc_class for s in drawn) == {"invoice": 60, "receipt": 30, "passport": 9, "rare": 1}
    positions = [samples.index(s) for s in drawn]
    assert positions == sorted(positions)  # the dataset's order, not the draw's
    assert select_samples(samples, sample=100, seed=0) == drawn  # same seed, same samples
    other = select_samples(samples, sample=100, seed=1)
    assert {s.id for s in other} != {s.id for s in drawn}
    assert Counter(s.doc_class for s in other) == Counter(s.doc_class for s in drawn)
    # a seed picks samples by id, whatever order the dataset lists them in
    assert {s.id for s in select_samples(samples[::-1], sample=100, seed=0)} == {s.id for s in drawn}


def test_sample_is_not_the_first_n_and_covers_the_dataset() -> None:
    samples = make_samples({"a": 500, "b": 500}, interleave=False)  # all a's, then all b's
    drawn = select_samples(samples, sample=50, seed=7)
    assert Counter(s.doc_class for s in drawn) == {"a": 25, "b": 25}
    indices = [samples.index(s) for s in drawn if s.doc_class == "a"]
    assert max(indices) > 250  # spread over the class, not its head


def test_filters_then_sample_and_limit_caps_it() -> None:
    samples = make_samples({"invoice": 40, "receipt": 20})
    fields = select_samples(samples, question_types=["field"], sample=10, seed=3)
    assert len(fields) == 10 and {s.question_type for s in fields} == {"field"}
    capped = select_samples(samples, limit=6, sample=30, seed=3)
    assert len(capped) == 6 and Counter(s.doc_class for s in capped) == {"invoice": 4, "receipt": 2}
    assert select_samples(samples, sample=60) == samples  # all of them: nothing to draw
    with pytest.raises(DatasetError, match="cannot sample 61: only 60"):
        select_samples(samples, sample=61)
    with pytest.raises(ValueError):
        select_samples(samples, sample=5, seed=-1)


def test_samples_without_doc_class_are_a_class_of_their_own() -> None:
    samples = make_samples({None: 30, "x": 10})
    assert Counter(s.doc_class for s in select_samples(samples, sample=8)) == {None: 6, "x": 2}


def test_the_same_seed_draws_the_same_samples_in_another_process() -> None:
    samples = make_samples({"invoice": 300, "receipt": 150, "rare": 3})
    here = [s.id for s in select_samples(samples, sample=40, seed=11)]
    code = (
        "import json, sys\n"
        "from tests.unit.datasets.test_selection import make_samples\n"
        "from vlmbench.datasets import select_samples\n"
        "samples = make_samples({'invoice': 300, 'receipt': 150, 'rare': 3})\n"
        "print(json.dumps([s.id for s in select_samples(samples, sample=40, seed=11)]))\n"
    )
    for hash_seed in ("1", "12345"):  # Python's own hash() differs between these; the draw must not
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
        out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
                             check=True)
        assert json.loads(out.stdout) == here


def test_selected_samples_follows_a_dataset_ref() -> None:
    samples = make_samples({"invoice": 40, "receipt": 20})
    ref = DatasetRef(name="d", path="/d", fingerprint="f", doc_classes=["invoice"], sample=8, seed=2)
    assert selected_samples(samples, ref) == select_samples(samples, ["invoice"], None, None, 8, 2)
    assert {s.doc_class for s in selected_samples(samples, ref)} == {"invoice"}


# --- what a reader is told -----------------------------------------------------------------------------


def test_describe_selection_says_how_samples_were_chosen() -> None:
    samples = make_samples({"invoice": 6000, "receipt": 3673})
    ref = DatasetRef(name="d", path="/d", fingerprint="f")
    assert describe_selection(samples, ref) == "all 9,673"
    assert describe_selection(samples, ref.model_copy(update={"limit": 100})) == "first 100 of 9,673"
    assert describe_selection(samples, ref.model_copy(update={"limit": 20_000})) == "all 9,673"
    assert (describe_selection(samples, ref.model_copy(update={"sample": 200, "seed": 0}))
            == "200 of 9,673: seeded sample (seed 0), stratified by doc_class")
    assert (describe_selection(samples, ref.model_copy(update={"sample": 200, "limit": 50, "seed": 4}))
            == "50 of 9,673: seeded sample (seed 4), stratified by doc_class")
    assert (describe_selection(samples, ref.model_copy(update={"doc_classes": ["receipt"], "limit": 10}))
            == "first 10 of 3,673 with doc_class receipt")
    assert (selection_text(3, 3, doc_classes=["a", "b"], question_types=["field"])
            == "all 3 with doc_class a, b; question_type field")


# --- fingerprints --------------------------------------------------------------------------------------


BASE = Sample(id="1", question="Total?", answer="42", images=["img/a.png"], choices=["41", "42"],
              doc_class="invoice", question_type="field", metadata={"answers": ["42", "42.0"]})
FILES = {"img/a.png": 100, "annotation.csv": 10}


@pytest.mark.parametrize("change", [
    {"answer": "43"},
    {"metadata": {"answers": ["43"]}},
    {"split": "train"},
])
def test_a_label_fix_keeps_the_inputs_fingerprint(change: dict) -> None:
    fixed = replace(BASE, **change)
    assert inputs_fingerprint([fixed], FILES) == inputs_fingerprint([BASE], FILES)
    if "split" not in change:
        assert references_fingerprint([fixed]) != references_fingerprint([BASE])


@pytest.mark.parametrize("change", [
    {"id": "2"},
    {"question": "Sum?"},
    {"choices": ["41", "43"]},
    {"images": ["img/b.png"]},
    {"doc_class": "receipt"},
    {"question_type": "full_text"},
])
def test_what_the_model_sees_changes_the_inputs_fingerprint(change: dict) -> None:
    changed = replace(BASE, **change)
    files = {**FILES, "img/b.png": 100}
    assert inputs_fingerprint([changed], files) != inputs_fingerprint([BASE], files)


def test_an_image_of_another_size_or_another_selection_changes_the_inputs_fingerprint() -> None:
    assert inputs_fingerprint([BASE], {**FILES, "img/a.png": 101}) != inputs_fingerprint([BASE], FILES)
    other = replace(BASE, id="2")
    assert inputs_fingerprint([BASE, other], FILES) != inputs_fingerprint([BASE], FILES)
    # files the samples do not show (the annotation file itself) do not count
    assert inputs_fingerprint([BASE], {**FILES, "annotation.csv": 11}) == inputs_fingerprint([BASE], FILES)


def test_references_changed_compares_with_what_the_worker_recorded() -> None:
    recorded = references_fingerprint([BASE])
    assert references_changed(recorded, [BASE]) is False
    assert references_changed(recorded, [replace(BASE, answer="43")]) is True
    assert references_changed(None, [BASE]) is None  # a run from before it was recorded
