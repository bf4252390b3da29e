"""Schemas of the files in a job directory: job.json, status.json, predictions.jsonl.

These files are the boundary between the host and a worker that may run
in another Python, another container or another machine, so each is a
pydantic model and ``job.json`` carries a schema version.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vlmbench.environment import EnvironmentVersions
from vlmbench.errors import JobSpecError
from vlmbench.fileio import write_atomic
from vlmbench.models.base import GenerationParams

JOB_SCHEMA_VERSION = 2  # 2: multiple-choice prompts, sample selection, max_error_rate

JobState = Literal["pending", "running", "done", "failed", "interrupted"]
#: Why a job ended other than done: the worker knows the first three (see VlmbenchError.failure_class), the
#: host the rest (see executors.base.decide_final_status).
FailureClass = Literal["bad-input", "model-load", "model-error", "oom", "timeout", "infrastructure", "interrupted"]
FAILURE_CLASSES: tuple[str, ...] = FailureClass.__args__


class ModelRef(BaseModel):
    """Which class to import and how to construct it."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model_name: str
    framework: str
    class_path: str  # "package.module:Class" or a registered name
    weights: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    git_python_package: str | None = None


class DatasetRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    path: str  # as the worker sees it
    fingerprint: str
    limit: int | None = None
    doc_classes: list[str] = Field(default_factory=list)
    question_types: list[str] = Field(default_factory=list)
    # A seeded sample of this many, stratified by doc_class (limit caps it); see datasets.selection.
    sample: int | None = Field(default=None, ge=1)
    seed: int | None = Field(default=None, ge=0)
    # What the model sees of the selected samples (datasets.inputs_fingerprint): the
    # worker checks its own selection against it; None (hand-written jobs) skips the check.
    inputs_fingerprint: str | None = None


class PromptRule(BaseModel):
    """A prompt for samples of one doc_class and/or question_type (blank = any)."""

    model_config = ConfigDict(extra="forbid")

    doc_class: str | None = None
    question_type: str | None = None
    template: str


class PromptSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template: str = "{question}"
    system_prompt: str | None = None
    rules: list[PromptRule] = Field(default_factory=list)  # from a prompt collection
    # For a sample with options whose template does not place them with {choices}:
    # what stands in for {question}. A field, so that its wording is part of the job id.
    choices_template: str = "{question}\n{choices}\nReply with only the letter of the correct option."

    def template_for(self, doc_class: str | None, question_type: str | None) -> str:
        """The most specific matching rule wins; the row's template is the fallback."""
        best, best_score = self.template, -1
        for rule in self.rules:
            if rule.doc_class not in (None, doc_class) or rule.question_type not in (None, question_type):
                continue
            score = (rule.doc_class is not None) * 2 + (rule.question_type is not None)
            if score > best_score:
                best, best_score = rule.template, score
        return best

    def render(self, question: str, doc_class: str | None = None, question_type: str | None = None,
               choices: list[str] | None = None) -> str:
        """The prompt for one sample; its ``choices`` are shown as lettered lines ("A. cat")."""
        from vlmbench.prompts import fill_template, lettered_options  # prompts imports this module

        template = self.template_for(doc_class, question_type)
        if not choices:
            return fill_template(template, question)
        options = lettered_options(choices)
        if "{choices}" not in template:
            question = fill_template(self.choices_template, question, options)
        return fill_template(template, question, options)


class JobSpec(BaseModel):
    """What a worker is told: everything needed to produce predictions."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = JOB_SCHEMA_VERSION
    job_id: str
    run_id: str
    config_row: int
    task: str | None = None
    model: ModelRef
    dataset: DatasetRef
    prompt: PromptSpec = Field(default_factory=PromptSpec)
    generation: GenerationParams = Field(default_factory=GenerationParams)
    batch_size: int | None = Field(default=None, ge=1)  # None: the model's own max_batch_size
    image: str | None = None  # docker image, when an executor uses one
    # A job whose share of failed samples exceeds this ends failed (all failed always does).
    # Not part of the job id: it judges the answers, it does not make them.
    max_error_rate: float = Field(default=0.5, ge=0.0, le=1.0)

    def write(self, path: Path) -> None:
        write_atomic(path, self.model_dump_json(indent=2))

    @classmethod
    def read(cls, path: Path) -> JobSpec:
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise JobSpecError(f"cannot read job file: {exc}", location=None) from None
        version = raw.get("schema_version") if isinstance(raw, dict) else None
        if version != JOB_SCHEMA_VERSION:
            raise JobSpecError(
                f"{path}: job schema version {version!r}, this worker reads version {JOB_SCHEMA_VERSION}",
                hint=_version_hint(version, raw.get("image") if isinstance(raw, dict) else None),
            )
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise JobSpecError(f"{path}: invalid job file: {exc.errors()[0]['msg']}") from None


def _version_hint(version: object, image: str | None) -> str:
    """Which side to update: the image (its worker is older) or the host."""
    # Set by the docker executor: the tag the container was started from.
    image = image or os.environ.get("VLMBENCH_IMAGE") or None
    if isinstance(version, int) and version < JOB_SCHEMA_VERSION:
        return "the host's vlmbench is older than this worker's: upgrade vlmbench on the host"
    if image:
        return (f"update the image {image} so its vlmbench matches the host's: "
                "`vlmbench build-images` or `vlmbench pull-images`")
    return "upgrade the vlmbench this worker runs so it matches the host's"


class Prediction(BaseModel):
    """One line of predictions.jsonl."""

    id: str
    prompt: str
    system_prompt: str | None = None  # what the model was sent with the prompt, not a file name
    answer: str | None = None
    latency_s: float = 0.0
    error: str | None = None


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class JobStatus(BaseModel):
    """status.json: the state of a job, rewritten atomically as it moves."""

    state: JobState = "pending"
    exit_code: int | None = None
    oom: bool = False
    error: str | None = None
    # Set with every final state but done; None in status files written before it existed.
    failure_class: FailureClass | None = None
    n_samples: int = 0
    n_done: int = 0
    n_errors: int = 0
    started_at: str | None = None
    finished_at: str | None = None
    model_load_s: float | None = None
    wall_s: float | None = None
    samples_per_s: float | None = None
    # The references (answers, metadata) of the job's samples when the worker ran:
    # compared by datasets.references_changed to say a label fix came after the predictions.
    references_fingerprint: str | None = None
    # The versions in the worker's own environment (its image's), which decide the answers as much as the
    # model does; read where the worker runs, since each image pins its own.
    environment: EnvironmentVersions | None = None
    # Who runs the job, as the worker sees itself: its pid and host name, and the pid of the
    # `vlmbench run` that started it when that is a local parent (None in a container or on Slurm).
    # A rerun reads them to tell a job whose owner died from one still being run (see
    # executors.local.release_job_dir). Optional fields: status.json carries no schema version,
    # and older workers (in older images) simply leave them out.
    worker_pid: int | None = None
    host: str | None = None
    runner_pid: int | None = None

    def write(self, path: Path) -> None:
        write_atomic(path, self.model_dump_json(indent=2))

    @classmethod
    def read(cls, path: Path) -> JobStatus:
        try:
            return cls.model_validate_json(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValidationError):
            return cls()


def read_predictions(path: Path) -> list[Prediction]:
    """Each sample's latest prediction, in the order samples were first answered.

    A torn last line (the writer was killed mid-line) is dropped. A sample
    appears twice when a resumed job retried it after it failed; its last
    line is the one that counts.
    """
    latest: dict[str, Prediction] = {}
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.endswith("\n"):
                break
            try:
                prediction = Prediction.model_validate_json(line)
            except ValidationError:
                break
            latest[prediction.id] = prediction
    return list(latest.values())
