"""One row of results.csv."""

from __future__ import annotations

from pydantic import BaseModel


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
    n: int
    n_errors: int = 0
    higher_is_better: bool = True
