"""Name → metric function, forgiving about how users spell the name.

Run CSVs written for VLMHyperBench say ``CER``, ``ExactMatch`` or
``exact_match``; all of them must find the same metric, so names are
compared after casefolding and dropping ``_``, ``-`` and spaces.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from vlmbench.datasets.schema import Sample
from vlmbench.errors import MetricError  # defined in vlmbench.errors; imported from here too
from vlmbench.suggest import spelling_key, suggest

MetricFn = Callable[[str, Sample], float]
# Many samples at once (rapidfuzz's batch functions, numpy): one float per pair, in order.
BatchFn = Callable[[Sequence[str], Sequence[Sample]], "np.ndarray | Sequence[float]"]


@dataclass(frozen=True)
class CorpusScore:
    """A metric whose group figure is computed from pooled statistics, not a mean.

    BLEU and chrF are defined over a corpus: the n-gram counts of every
    sentence are summed, then one score is taken of the sums. ``stats``
    gives each sample's additive statistics (n × k); ``score`` maps summed
    statistics (k,) or a stack of them (r × k, e.g. bootstrap resamples)
    to the score(s). Per-sample views keep the sentence-level function.
    """

    stats: Callable[[Sequence[str], Sequence[Sample]], np.ndarray]
    score: Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class MetricSpec:
    """A registered metric: its canonical name, function and direction.

    ``fn`` scores one sample; ``batch``, when given, scores many at once and
    must agree with ``fn`` (tests check it); ``corpus``, when given, makes
    group figures corpus-level.
    """

    name: str
    fn: MetricFn
    higher_is_better: bool = True
    description: str = ""
    aliases: tuple[str, ...] = ()
    batch: BatchFn | None = None
    corpus: CorpusScore | None = None

    def __call__(self, prediction: str, sample: Sample) -> float:
        return float(self.fn(prediction, sample))

    def score_many(self, predictions: Sequence[str], samples: Sequence[Sample]) -> np.ndarray:
        """One score per (prediction, sample) pair, batched when the metric can be."""
        if self.batch is not None:
            return np.asarray(self.batch(predictions, samples), dtype=float)
        return np.fromiter((self.fn(p, s) for p, s in zip(predictions, samples, strict=True)),
                           dtype=float, count=len(predictions))


_METRICS: dict[str, MetricSpec] = {}  # canonical name → spec, in registration order
_KEYS: dict[str, str] = {}  # spelling key → canonical name


def register_metric(
    name: str,
    higher_is_better: bool = True,
    description: str = "",
    aliases: tuple[str, ...] = (),
    *,
    batch: BatchFn | None = None,
    corpus: CorpusScore | None = None,
) -> Callable[[MetricFn], MetricFn]:
    """Register ``fn(prediction, sample) -> float`` under ``name`` (and ``aliases``).

    ``batch`` and ``corpus`` are optional faster and corpus-level forms (see
    :class:`MetricSpec`).

    Registering the same function again (a module reloaded by a test) is
    harmless; a different function under a taken name is a bug and raises.
    """

    def decorator(fn: MetricFn) -> MetricFn:
        spec = MetricSpec(name, fn, higher_is_better, description or (fn.__doc__ or "").strip(), aliases,
                          batch=batch, corpus=corpus)
        for spelling in (name, *aliases):
            key = spelling_key(spelling)
            owner = _KEYS.get(key)
            if owner is not None and owner != name:
                raise MetricError(f"metric name {spelling!r} is already taken by {owner!r}")
            if owner == name and not _same_function(_METRICS[name].fn, fn):
                raise MetricError(f"metric {name!r} is registered twice with different functions")
        _METRICS[name] = spec
        for spelling in (name, *aliases):
            _KEYS[spelling_key(spelling)] = name
        return fn

    return decorator


def _same_function(a: MetricFn, b: MetricFn) -> bool:
    return (getattr(a, "__module__", None), getattr(a, "__qualname__", None)) == (
        getattr(b, "__module__", None),
        getattr(b, "__qualname__", None),
    )


def get_metric(name: str) -> MetricSpec:
    """The metric called ``name`` in any spelling; an unknown name lists close ones."""
    canonical = _KEYS.get(spelling_key(name))
    if canonical is not None:
        return _METRICS[canonical]
    raise MetricError(
        f"unknown metric {name!r}",
        hint=suggest(
            name,
            list(_METRICS),
            {alias: spec.name for spec in _METRICS.values() for alias in spec.aliases},
        ),
    )


def list_metrics() -> list[MetricSpec]:
    """Every registered metric, in registration order."""
    return list(_METRICS.values())
