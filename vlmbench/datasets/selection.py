"""Which samples of a dataset a job answers, and fingerprints of what they hold.

Selection: the doc_class / question_type filters, then either the first
``limit`` samples or a seeded sample stratified by doc_class. The host
plan, the worker and scoring all select through :func:`selected_samples`
with a job's :class:`~vlmbench.rundir.records.DatasetRef`, so they agree on the
samples. The seeded draw keys each sample by ``sha256(seed, id)``, not by
Python's ``hash()`` or a library's random stream, so a seed picks the same
samples in every process, on every machine and with every numpy.

Fingerprints split a sample in two: what the model sees (ids, images,
questions, choices, doc_class and question_type, which prompt rules select
on) goes into the job id through :func:`inputs_fingerprint`; the references
(``answer`` and the free ``metadata``, which holds annotators' answers) go
into :func:`references_fingerprint` only, so a label fix re-scores a job
without running its model again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from vlmbench.datasets.schema import Sample
from vlmbench.errors import DatasetError

if TYPE_CHECKING:
    from vlmbench.rundir.records import DatasetRef

FINGERPRINT_LENGTH = 16
DEFAULT_SEED = 0


# --- selection -----------------------------------------------------------------------------------------


def filter_samples(
    samples: Sequence[Sample],
    doc_classes: Sequence[str] | None = None,
    question_types: Sequence[str] | None = None,
) -> list[Sample]:
    """The samples of the given doc classes and question types; an empty or missing filter keeps all."""
    wanted_classes = set(doc_classes or ())
    wanted_types = set(question_types or ())
    return [
        s
        for s in samples
        if (not wanted_classes or s.doc_class in wanted_classes)
        and (not wanted_types or s.question_type in wanted_types)
    ]


def sample_size(sample: int | None, limit: int | None) -> int | None:
    """How many samples a seeded draw takes: ``--limit`` caps ``--sample`` (both mean "at most N")."""
    if sample is None:
        return None
    return sample if limit is None else min(sample, limit)


def _draw_key(seed: int, sample_id: str) -> bytes:
    return hashlib.sha256(f"{seed}\0{sample_id}".encode()).digest()


def stratified_allocation(class_sizes: Sequence[int], n: int) -> list[int]:
    """How many of ``n`` each class gets: proportional, largest remainder, at least one each when n allows.

    Integer arithmetic throughout, so every machine allocates alike. Ties in
    the remainder go to the class met first in the dataset.
    """
    total = sum(class_sizes)
    if not 0 <= n <= total:
        raise ValueError(f"cannot take {n} of {total}")
    if total == 0:
        return [0] * len(class_sizes)
    quotas = [n * size for size in class_sizes]  # in units of 1/total
    alloc = [q // total for q in quotas]
    by_remainder = sorted(range(len(alloc)), key=lambda i: (-(quotas[i] % total), i))
    for i in by_remainder[: n - sum(alloc)]:
        alloc[i] += 1
    if n >= len(class_sizes):
        for empty in [i for i, a in enumerate(alloc) if a == 0]:
            # The donor is the class furthest above its exact quota (then the largest, then the first met).
            donor = max((i for i, a in enumerate(alloc) if a > 1),
                        key=lambda i: (alloc[i] * total - quotas[i], alloc[i], -i))
            alloc[donor] -= 1
            alloc[empty] += 1
    return alloc


def stratified_sample(samples: Sequence[Sample], n: int, seed: int = DEFAULT_SEED) -> list[Sample]:
    """A seeded sample of ``n``, stratified by doc_class, in the samples' own order."""
    if n > len(samples):
        raise DatasetError(f"cannot sample {n:,}: only {len(samples):,} samples to choose from",
                           hint="ask for a smaller --sample, or loosen the filters")
    if n == len(samples):
        return list(samples)
    classes: dict[str | None, list[int]] = {}
    for index, sample in enumerate(samples):
        classes.setdefault(sample.doc_class, []).append(index)
    members = list(classes.values())
    chosen: set[int] = set()
    for indices, count in zip(members, stratified_allocation([len(m) for m in members], n), strict=True):
        chosen.update(sorted(indices, key=lambda i: _draw_key(seed, samples[i].id))[:count])
    return [s for i, s in enumerate(samples) if i in chosen]


def select_samples(
    samples: Sequence[Sample],
    doc_classes: Sequence[str] | None = None,
    question_types: Sequence[str] | None = None,
    limit: int | None = None,
    sample: int | None = None,
    seed: int | None = None,
) -> list[Sample]:
    """Filter, then keep the first ``limit`` or a seeded stratified sample of ``sample``.

    With both, ``limit`` caps the sample's size: ``sample=200, limit=100``
    draws 100 (see :func:`sample_size`). Asking to sample more than the
    filters leave is a :class:`DatasetError`.
    """
    for name, value in (("limit", limit), ("sample", sample), ("seed", seed)):
        if value is not None and value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    kept = filter_samples(samples, doc_classes, question_types)
    size = sample_size(sample, limit)
    if size is not None:
        return stratified_sample(kept, size, DEFAULT_SEED if seed is None else seed)
    return kept if limit is None else kept[:limit]


def selected_samples(samples: Sequence[Sample], ref: DatasetRef) -> list[Sample]:
    """The samples a job answers: what the host plans, the worker predicts and scoring scores."""
    return select_samples(samples, ref.doc_classes, ref.question_types, ref.limit, ref.sample, ref.seed)


def selection_text(
    n_selected: int,
    n_available: int,
    *,
    limit: int | None = None,
    sample: int | None = None,
    seed: int | None = None,
    doc_classes: Sequence[str] = (),
    question_types: Sequence[str] = (),
) -> str:
    """How samples were chosen, for a reader: "first 100 of 9,673", "200 of 9,673: seeded sample ..."."""
    filters = "; ".join(f"{name} {', '.join(values)}" for name, values in
                        (("doc_class", doc_classes), ("question_type", question_types)) if values)
    available = f"{n_available:,}" + (f" with {filters}" if filters else "")
    if sample is not None:
        seed = DEFAULT_SEED if seed is None else seed
        return f"{n_selected:,} of {available}: seeded sample (seed {seed}), stratified by doc_class"
    if n_selected < n_available:
        return f"first {n_selected:,} of {available}"
    return f"all {available}"


def describe_selection(samples: Sequence[Sample], ref: DatasetRef) -> str:
    """How a job's samples were chosen from ``samples`` (the whole dataset), e.g. "all 9,673"."""
    available = filter_samples(samples, ref.doc_classes, ref.question_types)
    return selection_text(len(selected_samples(samples, ref)), len(available), limit=ref.limit,
                          sample=ref.sample, seed=ref.seed, doc_classes=ref.doc_classes,
                          question_types=ref.question_types)


# --- fingerprints --------------------------------------------------------------------------------------


def _digest(records: Iterable[Any]) -> str:
    # One dumps of the whole list: json's C encoder does 10k records in a few milliseconds.
    text = json.dumps(list(records), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:FINGERPRINT_LENGTH]


def inputs_fingerprint(samples: Sequence[Sample], files: Mapping[str, int]) -> str:
    """What a model sees of these samples: ids, images (path and size), questions, choices, classes.

    ``files`` is the dataset's listing (relative path -> size, see
    folder.scan_files): image sizes stand in for their bytes, as in the
    dataset fingerprint. References and metadata are left out on purpose.
    """
    return _digest(
        [s.id, [[p, files.get(p)] for p in s.images], s.question, s.choices, s.doc_class, s.question_type]
        for s in samples
    )


def references_fingerprint(samples: Sequence[Sample]) -> str:
    """The references of these samples (id, answer, metadata), in id order."""
    return _digest([s.id, s.answer, s.metadata] for s in sorted(samples, key=lambda s: s.id))


def references_changed(recorded: str | None, samples: Sequence[Sample]) -> bool | None:
    """Whether the references of ``samples`` differ from those a job's predictions were made against.

    ``recorded`` is ``JobStatus.references_fingerprint`` from the job's
    status.json; ``None`` (a run from before it was recorded, or a job that
    never started) gives ``None``: unknown.
    """
    if not recorded:
        return None
    return references_fingerprint(samples) != recorded
