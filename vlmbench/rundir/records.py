"""The records of a run directory: one pydantic model for every file in it.

Where each file lives and how it is read and written is vlmbench.rundir's
business; this module says what each holds. The job files are the boundary
between the host and a worker that may run in another Python, another
container or another machine, and the run files are read back by
`evaluate`, `report`, `export` and other tools, so ``job.json`` and
``run.json`` carry schema versions.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from vlmbench.datasets.schema import Sample
from vlmbench.environment import EnvironmentVersions
from vlmbench.models.base import GenerationParams

JOB_SCHEMA_VERSION = 2  # 2: multiple-choice prompts, sample selection, max_error_rate
#: run.json: 1 is also what vlmbench wrote before the field existed (the same fields, unversioned).
RUN_SCHEMA_VERSION = 1

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


class Prediction(BaseModel):
    """One line of predictions.jsonl."""

    id: str
    prompt: str
    system_prompt: str | None = None  # what the model was sent with the prompt, not a file name
    answer: str | None = None
    latency_s: float = 0.0
    error: str | None = None

    @property
    def answered(self) -> bool:
        """Whether the model gave an answer (a failed sample is tried again when its job resumes)."""
        return self.error is None and self.answer is not None


class JobSamples(BaseModel):
    """samples.json: the job's selected samples as the host read them when it planned the job.

    The worker answers these rather than parse the annotation file again (once per run, not once per
    process); it still checks, against the job's inputs fingerprint, that the images it sees are the ones
    planned. ``inputs_fingerprint`` ties the file to the job it was written for.
    """

    model_config = ConfigDict(extra="forbid")

    inputs_fingerprint: str
    samples: list[Sample]


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class WeightsRevision(BaseModel):
    """Which weights a worker loaded, as vlmbench.weights_revision finds them once the model is up."""

    weights: str | None = None  # as the catalog row names them: a repo id or a path
    path: str  # the folder the worker loaded them from, as the worker sees it
    # When that folder is a snapshot in a Hugging Face cache (models--owner--name/snapshots/<commit>).
    repo_id: str | None = None
    commit: str | None = None
    content_hash: str  # hex sha256 of the folder's listing and sampled bytes (vlmbench.weights_revision)
    hash_method: str  # the recipe's name and version, so that a recomputation knows which one to use
    n_files: int
    total_bytes: int


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
    samples_per_s: float | None = None  # the whole worker's: samples answered over wall_s, model loading included
    # The prediction phase alone (first batch to last, model loading left out) and its rate: the model's speed,
    # which samples_per_s understates by the fixed costs around it. None in older status files.
    predict_s: float | None = None
    predict_samples_per_s: float | None = None
    # The references (answers, metadata) of the job's samples when the worker ran:
    # compared by datasets.references_changed to say a label fix came after the predictions.
    references_fingerprint: str | None = None
    # The versions in the worker's own environment (its image's), which decide the answers as much as the
    # model does; read where the worker runs, since each image pins its own.
    environment: EnvironmentVersions | None = None
    # The weights the model was loaded from (None before it loaded, for a model without local weights
    # such as a remote API, and in older status files).
    weights: WeightsRevision | None = None
    # Who runs the job, as the worker sees itself: its pid and host name, and the pid of the
    # `vlmbench run` that started it when that is a local parent (None in a container or on Slurm).
    # A rerun reads them to tell a job whose owner died from one still being run (see
    # executors.local.release_job_dir). Optional fields: status.json carries no schema version,
    # and older workers (in older images) simply leave them out.
    worker_pid: int | None = None
    host: str | None = None
    runner_pid: int | None = None
    # What generating cost, where it is known (None otherwise, and in older status files): the new tokens
    # an adapter that counts them (the transformers one) generated in this worker's run, their rate over
    # the seconds spent in generate(), and the peak GPU memory torch allocated on all its devices.
    output_tokens: int | None = None
    tokens_per_s: float | None = None
    peak_gpu_memory_mb: float | None = None


# --- scores: a job's metrics.json and scores.jsonl, the run's results.csv --------------------------------


class ResultRow(BaseModel):
    """A metric's value over one group of samples of one job."""

    job_id: str
    model_name: str
    framework: str
    dataset: str
    task: str | None = None
    metric: str
    aggregator: str  # general | by_doc_type | by_question_type | by_doc_question | by_id
    group: str  # "all", a doc_class, a question_type, "doc_class/question_type", or a sample id
    value: float
    ci_low: float | None = None
    ci_high: float | None = None
    n: int  # samples answered and scored: the value is their mean (or corpus score)
    n_errors: int = 0  # samples whose prediction failed: left out of the value, never scored as wrong
    n_total: int | None = None  # samples planned in the group: scored + failed + not yet predicted
    coverage: float | None = None  # n / n_total; below 1 the value speaks for part of the group only
    higher_is_better: bool = True

    @field_validator("value", mode="before")
    @classmethod
    def _null_is_nan(cls, value: object) -> object:
        # A group with no answered sample (a failed sample's by_id row) has a NaN value, which
        # metrics.json, being JSON, holds as null: read back, it is NaN again.
        return float("nan") if value is None else value

    @property
    def complete(self) -> bool:
        """Whether every planned sample of the group was answered (old rows without n_total count as complete)."""
        return self.coverage is None or self.coverage >= 1.0


class SampleScore(BaseModel):
    """One line of scores.jsonl: what a sample was asked to match, what came back, and each metric's value.

    A sample whose prediction failed has its ``error`` and null scores: it
    was not answered, so it is not scored as wrong.
    """

    id: str
    reference: str
    answer: str | None = None
    error: str | None = None
    scores: dict[str, float | None] = {}


class JobMetrics(BaseModel):
    """metrics.json: a job's result rows and the inputs they were computed from."""

    inputs: str  # hash of what the scores depend on; equal inputs → the rows still hold
    references_fingerprint: str
    rows: list[ResultRow]


class ReportInputs(BaseModel):
    """.report-inputs: the digest of what results.csv and the report were drawn from, and the jobs table
    drawn with them, so that a rerun with nothing new prints it without reading any predictions."""

    key: str
    jobs: list[dict[str, Any]] = []  # vlmbench.report.JobSummary, validated there (it imports this module)


# --- run.json ----------------------------------------------------------------------------------------


class SlurmArrayTasks(BaseModel):
    """The tasks of one Slurm job array: task i runs the batch script in ``folders[i]`` (absolute)."""

    model_config = ConfigDict(extra="forbid")
    run_id: str
    folders: list[str]


class HostInfo(BaseModel):
    """Where `vlmbench run` ran (its workers may run elsewhere: see RunJob.environment)."""

    model_config = ConfigDict(extra="forbid")

    python: str
    platform: str
    node: str


class RunJob(BaseModel):
    """One planned job as run.json records it: the rows it came from and how it is scored."""

    model_config = ConfigDict(extra="forbid")

    job_id: str
    config_row: dict[str, Any]  # the run CSV's row, as config.RunRow dumps it
    catalog_row: dict[str, Any]  # the catalog's row, as catalog.CatalogRow dumps it
    image: str | None = None
    image_digest: str | None = None
    metrics: list[str]
    aggregators: list[str]
    n_samples: int
    selection: str = ""
    dataset_root: str  # the host's path; job.json may hold a container's
    shards: int = Field(default=1, ge=1)  # workers the job was split over (vlmbench.shards)
    # The versions in the job's worker environment, added when its worker has reported them.
    environment: EnvironmentVersions | None = None
    # Provenance, all optional so that run.json files from before them still read. From the plan: the
    # prompt, the dataset with how its samples were chosen (filters, limit, seeded sample) and the
    # fingerprints to check a folder against, the decoding settings. From the worker, once it has
    # loaded the model: the weights it loaded.
    prompt: PromptSpec | None = None
    dataset: DatasetRef | None = None
    generation: GenerationParams | None = None
    weights: WeightsRevision | None = None


class RunRecord(BaseModel):
    """run.json: what was run, with what, where; the index of the run's jobs."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = RUN_SCHEMA_VERSION
    run_id: str
    created_at: str
    config: str  # the run CSV's absolute path
    executor: str
    container_runtime: str | None = None  # slurm: the runtime each batch job ran its worker's image with
    vlmbench: str
    images: dict[str, str] = Field(default_factory=dict)  # image → digest
    host: HostInfo
    jobs: list[RunJob]
