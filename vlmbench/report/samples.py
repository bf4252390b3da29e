"""The report's sample browser: the samples worth a look, each with its image and every model's answer.

Per dataset, on its headline metric (the first it was scored with): each
model's worst samples, and the samples on which the models' scores differ
most. Both lists are bounded and thumbnails are small JPEGs, so a run of a
million samples makes a report no bigger than one of a hundred.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vlmbench.datasets.schema import Sample
from vlmbench.errors import VlmbenchError
from vlmbench.report.cost import headline_metrics
from vlmbench.rundir import JobDir
from vlmbench.rundir.records import ResultRow, SampleScore

WORST_PER_MODEL = 6
MOST_DISAGREEMENT = 12
MAX_PER_DATASET = 48  # rows of one dataset's browser; the lists above are cut to fit
THUMBNAIL_PX = 160  # the longer side
THUMBNAIL_QUALITY = 70
TEXT_CHARS = 300  # of a question, reference or answer; a page of OCR text is cut with "…"
FILTER_VALUES = 40  # an annotation column with more distinct values is not offered as a filter
FIXED_FILTERS = ("doc_class", "question_type")


@dataclass
class JobSamples:
    """What the browser needs of one job: its planned samples, where their images are, its scores."""

    job_id: str
    dataset: str
    root: Path  # the dataset folder, as the host sees it
    samples: list[Sample]
    files: JobDir  # scores.jsonl is read from here, only when the report is drawn


def thumbnail(root: Path, relative: str) -> str | None:
    """The image as a base64 JPEG at most THUMBNAIL_PX on its longer side; None if it cannot be read."""
    from vlmbench.datasets.images import load_image

    try:
        image = load_image(root, relative)
    except (OSError, ValueError, VlmbenchError):
        return None  # the sample's own error says why; the browser shows no picture
    image.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _cut(text: str | None) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= TEXT_CHARS else text[: TEXT_CHARS - 1].rstrip() + "…"


@dataclass
class Ratings:
    """One job's scores of a dataset's samples on one metric, aligned with the samples' order.

    Arrays rather than a record per line: a job of a million samples is
    rated in 16 MB, where its scores.jsonl read whole would take a gigabyte.
    """

    quality: np.ndarray  # the value with bigger always better; NaN where not answered or not scored
    answer: np.ndarray  # a hash of each stripped answer (distinct answers tell ties apart); 0 where none


def rate(scores: Iterable[SampleScore], position: dict[str, int], metric: str, higher: bool) -> Ratings | None:
    """The ``scores`` of the samples at ``position`` (id → index) as Ratings; None when there are none."""
    quality = np.full(len(position), np.nan)
    answer = np.zeros(len(position), dtype=np.int64)
    found = False
    for score in scores:
        if (i := position.get(score.id)) is None:
            continue  # scored but no longer planned (the dataset changed): nothing to show it with
        found = True
        value = score.scores.get(metric)
        if score.error is None and value is not None and math.isfinite(value):
            quality[i] = value if higher else -value
            answer[i] = hash((score.answer or "").strip())
    return Ratings(quality, answer) if found else None


def worst_samples(ratings: Ratings, count: int) -> list[int]:
    """The positions of the ``count`` answered samples with the lowest quality, worst first (ties in dataset
    order). A sample as good as the model's best is nobody's worst: a model that answered everything
    equally well has none."""
    rated = np.flatnonzero(~np.isnan(ratings.quality))
    if not len(rated):
        return []
    below = rated[ratings.quality[rated] < ratings.quality[rated].max()]
    return below[np.argsort(ratings.quality[below], kind="stable")[:count]].tolist()


def most_disagreement(per_model: list[Ratings], count: int) -> list[int]:
    """The positions of the samples whose scores differ most between models (two answers at least), largest
    first; ties go to the sample with more distinct answers, then to dataset order. Samples on which every
    model scored the same are left out."""
    if len(per_model) < 2:
        return []
    quality = np.stack([r.quality for r in per_model])  # models × samples
    answered = ~np.isnan(quality)
    low = np.where(answered, quality, np.inf).min(axis=0)
    high = np.where(answered, quality, -np.inf).max(axis=0)
    candidates = np.flatnonzero((answered.sum(axis=0) > 1) & (high > low))
    if not len(candidates):
        return []
    # Distinct answers among the models that answered: a sorted column changes value once per new answer.
    answers = np.sort(np.where(answered, np.stack([r.answer for r in per_model]), np.iinfo(np.int64).min)
                      [:, candidates], axis=0)
    distinct = 1 + (np.diff(answers, axis=0) != 0).sum(axis=0) - (~answered[:, candidates]).any(axis=0)
    order = np.lexsort((candidates, -distinct, low[candidates] - high[candidates]))
    return candidates[order[:count]].tolist()


def _pick(worst: list[list[int]], disagreement: list[int], limit: int) -> list[int]:
    """Disagreement first, then each model's worst in turns (every model's first, then second...), to ``limit``."""
    picked = dict.fromkeys(disagreement[:limit])
    for rank in range(max(map(len, worst), default=0)):
        for own in worst:
            if len(picked) >= limit:
                return list(picked)
            if rank < len(own):
                picked.setdefault(own[rank])
    return list(picked)


def _cell(score: SampleScore | None, metric: str, higher: bool) -> dict[str, Any]:
    """One model's answer to one sample, as the template shows it."""
    if score is None:
        return {"text": "", "score": "", "css": "none", "note": "not predicted"}
    if score.error is not None or score.answer is None:
        return {"text": _cut(score.error or "no answer"), "score": "", "css": "err", "note": "failed"}
    value = score.scores.get(metric)
    if value is None or not math.isfinite(value):
        return {"text": _cut(score.answer), "score": "–", "css": "mid", "note": ""}
    good = value >= 0.999 if higher else value <= 0.001
    bad = value <= 0.001 if higher else value >= 0.999
    return {"text": _cut(score.answer), "score": f"{value:.3f}", "css": "good" if good else "bad" if bad else "mid",
            "note": ""}


def _annotations(sample: Sample) -> dict[str, str]:
    """The sample's filterable columns: doc_class, question_type and the scalar annotation columns."""
    found = {"doc_class": sample.doc_class or "", "question_type": sample.question_type or ""}
    for key, value in sample.metadata.items():
        if isinstance(value, (str, int, float, bool)) and key not in found:
            found[key] = str(value)
    return found


def _filters(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The columns worth a filter: two values at least, few enough to list, not one per row."""
    columns = list(dict.fromkeys(key for row in rows for key in row["annotations"]))
    filters = []
    for column in columns:
        values = sorted({row["annotations"].get(column, "") for row in rows})
        fixed = column in FIXED_FILTERS
        if len(values) < 2 or len(values) > FILTER_VALUES or (not fixed and len(values) == len(rows)):
            continue
        filters.append({"column": column, "options": values})
    return filters


def browse_dataset(dataset: str, jobs: list[JobSamples], metric: str, higher: bool,
                   labels: dict[str, str]) -> dict[str, Any] | None:
    """One dataset's browser: the picked samples, their answers by model, the filters; None if nothing scored.

    Each job's scores.jsonl is read twice, keeping little: once as Ratings to pick the samples, once for
    the picked samples' lines.
    """
    samples: list[Sample] = []  # every job's, each once (jobs of a dataset may select different samples)
    roots: list[Path] = []
    position: dict[str, int] = {}
    for job in jobs:
        for sample in job.samples:
            if sample.id not in position:
                position[sample.id] = len(samples)
                samples.append(sample)
                roots.append(job.root)
    rated = [(job, ratings) for job in jobs
             if (ratings := rate(job.files.iter_scores(), position, metric, higher)) is not None]
    if not rated:
        return None
    models = [labels.get(job.job_id, job.job_id) for job, _ in rated]
    worst = [worst_samples(ratings, WORST_PER_MODEL) for _, ratings in rated]
    disagreement = most_disagreement([ratings for _, ratings in rated], MOST_DISAGREEMENT)
    picked = _pick(worst, disagreement, MAX_PER_DATASET)
    if not picked:
        return None
    wanted = {samples[i].id for i in picked}
    per_model = [{score.id: score for score in job.files.iter_scores() if score.id in wanted} for job, _ in rated]
    worst_sets = [set(own) for own in worst]
    disagreeing = set(disagreement)
    rows = []
    for i in picked:
        sample = samples[i]
        picks = (["disagree"] if i in disagreeing else []) + [
            f"worst-{m}" for m, own in enumerate(worst_sets) if i in own]
        rows.append({
            "id": sample.id,
            "thumbnail": thumbnail(roots[i], sample.images[0]) if sample.images else None,
            "more_images": max(len(sample.images) - 1, 0),
            "question": _cut(sample.question),
            "choices": [_cut(choice) for choice in sample.choices],
            "reference": _cut(sample.answer),
            "annotations": _annotations(sample),
            "picks": " ".join(picks),
            "answers": [_cell(scores.get(sample.id), metric, higher) for scores in per_model],
        })
    return {
        "dataset": dataset,
        "metric": metric,
        "higher": higher,
        "models": models,
        "rows": rows,
        "filters": _filters(rows),
        "n_disagree": sum("disagree" in row["picks"].split() for row in rows),
    }


def sample_browsers(jobs: list[JobSamples], results: list[ResultRow],
                    labels: dict[str, str]) -> list[dict[str, Any]]:
    """Per dataset with scores, in the results' order: its browser (see :func:`browse_dataset`)."""
    headline = headline_metrics(results)
    browsers = []
    for dataset, (metric, higher) in headline.items():
        own = [job for job in jobs if job.dataset == dataset]
        if own and (browser := browse_dataset(dataset, own, metric, higher, labels)):
            browsers.append(browser)
    return browsers
