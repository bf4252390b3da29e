"""One row of results.csv, and one line of a job's scores.jsonl."""

from __future__ import annotations

from pydantic import BaseModel, field_validator


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
