"""The report's sample browser: the samples worth a look, each with its image and every model's answer.

Per dataset, on its headline metric (the first it was scored with): each
model's worst samples, and the samples on which the models' scores differ
most. Both lists are bounded and thumbnails are small JPEGs, so a run of a
million samples makes a report no bigger than one of a hundred.
"""

from __future__ import annotations

import base64
import heapq
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def _quality(score: SampleScore, metric: str, higher: bool) -> float | None:
    """The sample's value with bigger always better; None when it was not answered or not scored."""
    value = score.scores.get(metric)
    if score.error is not None or value is None or not math.isfinite(value):
        return None
    return value if higher else -value


def worst_samples(scores: dict[str, SampleScore], metric: str, higher: bool, count: int) -> list[str]:
    """The ids of the ``count`` answered samples with the lowest quality, worst first.

    A sample as good as the model's best is nobody's worst: a model that
    answered everything equally well has no worst samples.
    """
    rated = [(q, sample_id) for sample_id, score in scores.items()
             if (q := _quality(score, metric, higher)) is not None]
    if not rated:
        return []
    best = max(q for q, _ in rated)
    return [sample_id for q, sample_id in heapq.nsmallest(count, rated) if q < best]


def most_disagreement(per_model: list[dict[str, SampleScore]], metric: str, higher: bool,
                      count: int) -> list[str]:
    """The ids of the samples whose scores differ most between models (two answers at least), largest first.

    Ties go to the sample with more distinct answers; samples on which every model scored the same are left out.
    """
    if len(per_model) < 2:
        return []
    values: dict[str, list[float]] = {}  # in the order samples come: ties keep the dataset's order
    answers: dict[str, set[str]] = {}
    for scores in per_model:
        for sample_id, score in scores.items():
            if (q := _quality(score, metric, higher)) is not None:
                values.setdefault(sample_id, []).append(q)
                answers.setdefault(sample_id, set()).add((score.answer or "").strip())
    spread = [(min(v) - max(v), -len(answers[sample_id]), position, sample_id)
              for position, (sample_id, v) in enumerate(values.items()) if len(v) > 1 and max(v) > min(v)]
    return [sample_id for *_, sample_id in heapq.nsmallest(count, spread)]


def _pick(worst: list[list[str]], disagreement: list[str], limit: int) -> list[str]:
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
    """One dataset's browser: the picked samples, their answers by model, the filters; None if nothing scored."""
    scored = [(job, {s.id: s for s in job.files.read_scores()}) for job in jobs]
    scored = [(job, scores) for job, scores in scored if scores]
    if not scored:
        return None
    models = [labels.get(job.job_id, job.job_id) for job, _ in scored]
    per_model = [scores for _, scores in scored]
    worst = [worst_samples(scores, metric, higher, WORST_PER_MODEL) for scores in per_model]
    disagreement = most_disagreement(per_model, metric, higher, MOST_DISAGREEMENT)
    picked = _pick(worst, disagreement, MAX_PER_DATASET)
    if not picked:
        return None
    wanted = set(picked)
    where: dict[str, tuple[Sample, Path]] = {}
    for job, _ in scored:
        for sample in job.samples:
            if sample.id in wanted:
                where.setdefault(sample.id, (sample, job.root))
    worst_sets = [set(own) for own in worst]
    disagreeing = set(disagreement)
    rows = []
    for sample_id in picked:
        if sample_id not in where:
            continue  # scored but no longer planned (the dataset changed): nothing to show it with
        sample, root = where[sample_id]
        picks = (["disagree"] if sample_id in disagreeing else []) + [
            f"worst-{m}" for m, own in enumerate(worst_sets) if sample_id in own]
        rows.append({
            "id": sample.id,
            "thumbnail": thumbnail(root, sample.images[0]) if sample.images else None,
            "more_images": max(len(sample.images) - 1, 0),
            "question": _cut(sample.question),
            "choices": [_cut(choice) for choice in sample.choices],
            "reference": _cut(sample.answer),
            "annotations": _annotations(sample),
            "picks": " ".join(picks),
            "answers": [_cell(scores.get(sample_id), metric, higher) for scores in per_model],
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
