"""A run's answers and metrics as VLMHyperBench's pipeline writes them, for its downstream tools.

Learned from the versions VLMHyperBench's stages install (dataset_iterator
0.2.3 writes answers, metric_evaluator 0.1.1 writes metrics), per job:

* ``ModelsAnswers/{dataset}_{framework}_{model}_{task}_answers_{%Y%m%d_%H%M%S}.csv``
  with columns ``id;model_answer``; ``id`` is the sample's 0-based row in the
  dataset's annotation;
* ``ModelsMetrics/{answers file stem}_{aggregator}.csv`` for each of
  ``by_id`` (the answers joined to their annotation rows, then one column
  per metric), ``by_doc_type`` (``doc_class``), ``by_doc_question``
  (``doc_class;question_type``) and ``general`` (one row);

all ``;``-separated UTF-8 with a BOM and no index column, written by pandas
with their arguments so the bytes match. Metric columns are theirs,
``wer_error``, ``cer_error``, then ``bleu_score`` (by_id, general) or
``bleu_error`` (by_doc_type, by_doc_question, as they misname it); any other
metric follows as ``{name}_score`` or ``{name}_error`` after its direction.

Values are the run's own figures. Where theirs are computed otherwise the
export says so: a group's ``cer_error``/``wer_error`` is theirs only when the
run scored ``cer_pooled``/``wer_pooled``; BLEU is put on their 0..100 scale,
but they score the reference against the answer (sacrebleu's roles swapped).
Failed samples are left out of the answers, as the figures leave them out;
metric_evaluator then scores the same answered samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from vlmbench.datasets import selected_samples
from vlmbench.export.annotation import annotation_table
from vlmbench.export.run_files import JobFiles
from vlmbench.fileio import write_atomic
from vlmbench.metrics import get_metric
from vlmbench.metrics.aggregate import OVERALL_GROUP, group_labels

if TYPE_CHECKING:
    import pandas as pd

ANSWERS_DIR = "ModelsAnswers"  # their data_dirs folder names
METRICS_DIR = "ModelsMetrics"
AGGREGATORS = ("by_id", "by_doc_type", "by_doc_question", "general")  # the ones metric_evaluator writes
_GROUP_COLUMNS = {"by_doc_type": ["doc_class"], "by_doc_question": ["doc_class", "question_type"]}
# Their metric → our metrics that fill its column, best match first (pooled is how they compute groups).
_THEIR_METRICS = {"wer": ("wer_pooled", "wer"), "cer": ("cer_pooled", "cer"), "bleu": ("bleu",)}
BLEU_SCALE = 100.0  # sacrebleu's scale, which they keep; ours is 0..1
_TIMESTAMP = "%Y%m%d_%H%M%S"
_FALLBACK_TASK = "VQA"  # the only task whose answers they write in this layout
# Their file names carry the model class's own `framework` attribute: their transformers classes say this.
_THEIR_FRAMEWORK = {"hf": "Hugging_Face"}


@dataclass
class Export:
    """What an export wrote, and what a reader of its files should know."""

    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Column:
    metric: str  # ours
    name: str  # theirs
    scale: float = 1.0


def export_vlmhyperbench(jobs: list[JobFiles], out: Path) -> Export:
    result = Export()
    taken: set[str] = set()
    for job in jobs:
        _export_job(job, out, taken, result)
    return result


def _export_job(job: JobFiles, out: Path, taken: set[str], result: Export) -> None:
    spec = job.spec
    position = {s.id: i for i, s in enumerate(job.dataset.samples)}
    selected = {s.id for s in selected_samples(job.dataset.samples, spec.dataset)}
    answered = sorted((p for p in job.predictions
                       if p.id in selected and p.answered),
                      key=lambda p: position[p.id])
    failed = sum(p.id in selected for p in job.predictions) - len(answered)
    label = f"{spec.model.model_name} on {spec.dataset.name} (job {spec.job_id})"
    if failed:
        result.notes.append(f"{label}: {failed} failed sample(s) left out, as the figures leave them out")
    if not answered:
        result.notes.append(f"{label}: no answers, nothing written")
        return
    import pandas as pd

    stem = _answers_stem(job, taken)
    answers = pd.DataFrame({"id": [position[p.id] for p in answered],
                            "model_answer": [p.answer for p in answered]})
    _write(out / ANSWERS_DIR / f"{stem}.csv", answers, result)

    rows = [r for r in job.metrics.rows if r.n > 0]  # n = 0: no answered sample, a group they lack
    aggregators = list(dict.fromkeys(r.aggregator for r in rows))
    skipped = [a for a in aggregators if a not in AGGREGATORS]
    if skipped:
        result.notes.append(f"{label}: {', '.join(skipped)} left out (metric_evaluator has no such file)")
    metrics = list(dict.fromkeys(r.metric for r in rows))
    for aggregator in (a for a in AGGREGATORS if a in aggregators):
        columns = _columns(metrics, aggregator, result)
        values = {(r.metric, r.group): r.value for r in rows if r.aggregator == aggregator}
        if aggregator == "by_id":
            frame = _by_id(job, answers, [p.id for p in answered], columns, values)
        else:
            frame = _groups(job, answered, aggregator, columns, values)
        _write(out / METRICS_DIR / f"{stem}_{aggregator}.csv", frame, result)


def _answers_stem(job: JobFiles, taken: set[str]) -> str:
    spec = job.spec
    framework = _THEIR_FRAMEWORK.get(spec.model.framework, spec.model.framework).replace(" ", "_")
    parts = [spec.dataset.name, framework, spec.model.model_name, spec.task or _FALLBACK_TASK]
    prefix = "_".join(part.replace("/", "_") for part in parts)
    when = _finished(job)
    # Their names differ only by the second the answers were saved: two jobs of a run that
    # finished within one second (one model, one dataset, two prompts) are set a second apart.
    while (stem := f"{prefix}_answers_{when.strftime(_TIMESTAMP)}") in taken:
        when += timedelta(seconds=1)
    taken.add(stem)
    return stem


def _finished(job: JobFiles) -> datetime:
    """When the job's answers were last written (UTC), as their runner stamps its file on saving."""
    for stamp in (job.status.finished_at, job.status.started_at, job.created_at):
        if stamp:
            return datetime.fromisoformat(stamp).astimezone(timezone.utc)
    return datetime.fromtimestamp(0, timezone.utc)


def _columns(metrics: list[str], aggregator: str, result: Export) -> list[_Column]:
    columns = []
    for theirs, candidates in _THEIR_METRICS.items():
        ours = next((m for m in candidates if m in metrics), None)
        if ours is None:
            continue
        if theirs == "bleu":
            name = "bleu_score" if aggregator in ("by_id", "general") else "bleu_error"
            columns.append(_Column(ours, name, BLEU_SCALE))
            _note(result, "bleu_score/bleu_error are vlmbench's BLEU x 100; metric_evaluator's own figure "
                  "scores the reference against the answer (sacrebleu's hypothesis and reference swapped)")
            continue
        columns.append(_Column(ours, f"{theirs}_error"))
        if aggregator != "by_id" and ours == theirs:
            _note(result, f"{theirs}_error of a group is the mean of its samples' rates; metric_evaluator "
                  f"pools the group's text: score {theirs.upper()}_pooled in the run for its figure")
    covered = {m for candidates in _THEIR_METRICS.values() for m in candidates}
    for metric in (m for m in metrics if m not in covered):
        suffix = "score" if get_metric(metric).higher_is_better else "error"
        columns.append(_Column(metric, f"{metric}_{suffix}"))
    return columns


def _note(result: Export, text: str) -> None:
    if text not in result.notes:
        result.notes.append(text)


def _by_id(job: JobFiles, answers: pd.DataFrame, ids: list[str], columns: list[_Column],
           values: dict[tuple[str, str], float]) -> pd.DataFrame:
    import pandas as pd

    table = annotation_table(job.dataset)
    # metric_evaluator numbers the annotation rows as `id` (replacing any id column of its
    # own) and joins the answers to them: answers' columns first, then the annotation's.
    keep = [i for i, name in enumerate(table.columns) if name not in ("id", "model_answer")]
    annotation = pd.DataFrame([[table.rows[i][k] for k in keep] for i in answers["id"]],
                              columns=[table.columns[k] for k in keep])
    frame = pd.concat([answers, annotation], axis=1)
    for column in columns:
        frame[column.name] = [values.get((column.metric, sample_id), float("nan")) * column.scale
                              for sample_id in ids]
    return frame


def _groups(job: JobFiles, answered: list, aggregator: str, columns: list[_Column],
            values: dict[tuple[str, str], float]) -> pd.DataFrame:
    import pandas as pd

    keys = _GROUP_COLUMNS.get(aggregator, [])
    by_id = {s.id: s for s in job.dataset.samples}
    samples = pd.DataFrame({key: [getattr(by_id[p.id], key) for p in answered] for key in keys},
                           index=range(len(answered)))
    # Each group label our rows carry, and the raw doc_class (and question_type) it stands for.
    groups = (dict(zip(group_labels(samples, aggregator), samples.itertuples(index=False, name=None)))
              if keys else {OVERALL_GROUP: ()})
    records = []
    # Sorted by key, as pandas' groupby orders their rows; a missing class sorts first, as "".
    for group, key in sorted(groups.items(), key=lambda item: [v or "" for v in item[1]]):
        record: dict[str, object] = dict(zip(keys, key))
        record.update({c.name: values.get((c.metric, group), float("nan")) * c.scale for c in columns})
        records.append(record)
    return pd.DataFrame(records, columns=[*keys, *(c.name for c in columns)])


def _write(path: Path, frame: pd.DataFrame, result: Export) -> None:
    # What their to_csv(sep=";", encoding="utf-8-sig", index=False) writes; the BOM by hand,
    # since pandas adds it only when it opens the file itself.
    write_atomic(path, "\ufeff" + frame.to_csv(sep=";", index=False))
    result.files.append(path)
