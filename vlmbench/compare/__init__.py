"""Models compared sample by sample: `vlmbench compare RUN_DIR...` and the report's comparison section.

Two models' means, each with its own interval, can overlap while one model
beats the other on nearly every sample; pairing the samples tells such a
difference from noise. Statistics: vlmbench.metrics.paired.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from vlmbench.compare.contenders import Contenders, job_identity, pick_models, read_contenders, read_jobs
from vlmbench.compare.pairs import ALPHA, Comparison, MetricComparison, PairResult, RankedModel, compare
from vlmbench.errors import CompareError
from vlmbench.rundir import JobDir


def compare_runs(run_dirs: list[Path], models: list[str] | None = None, alpha: float = ALPHA) -> Comparison:
    """Every pair of models (of ``models``, or all) on each dataset the runs share, or a CompareError."""
    found = pick_models(read_contenders(run_dirs), models or [])
    comparison = compare(found, alpha)
    if not comparison.tables:
        per_unit = {f"{dataset}" + (f" / {task}" if task else ""): len(jobs)
                    for (dataset, task), jobs in found.units().items()}
        held = "; ".join(f"{unit}: {n} model(s)" for unit, n in per_unit.items()) or "no scored job"
        raise CompareError(f"nothing to compare: no dataset has two scored models ({held})",
                           hint="pass run directories that hold two models or more on one dataset")
    return comparison


def run_comparison(run_dir: Path) -> Comparison | None:
    """The comparison of a run's models for its report (see :func:`jobs_comparison`)."""
    return _for_report(read_contenders([run_dir]))


def jobs_comparison(jobs: list[JobDir]) -> Comparison | None:
    """The comparison of these jobs' models for the report, when some dataset has two models or more.

    Jobs that cannot be paired (different samples) get a line saying why,
    not a failed report. Only the jobs that share their dataset and task with another are read.
    """
    identities = {files.path: job_identity(files) for files in jobs}
    shared = Counter(identity.unit for identity in identities.values())
    return _for_report(read_jobs([files for files in jobs if shared[identities[files.path].unit] > 1], identities))


def _for_report(found: Contenders) -> Comparison | None:
    if not any(len(jobs) > 1 for jobs in found.units().values()):
        return None
    return compare(found, strict=False)


__all__ = ["ALPHA", "CompareError", "Comparison", "MetricComparison", "PairResult", "RankedModel", "compare_runs",
           "jobs_comparison", "run_comparison"]
