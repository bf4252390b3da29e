"""The metric registry: spellings, unknown names, registration rules."""

from __future__ import annotations

import subprocess
import sys

import pytest

from vlmbench.datasets.schema import Sample
from vlmbench.metrics import MetricError, get_metric, list_metrics, register_metric, registry


@pytest.fixture
def clean_registry(monkeypatch):
    """Register test metrics into copies so the real registry stays untouched."""
    monkeypatch.setattr(registry, "_METRICS", dict(registry._METRICS))
    monkeypatch.setattr(registry, "_KEYS", dict(registry._KEYS))


@pytest.mark.parametrize(
    ("spelling", "name"),
    [
        ("CER", "cer"),
        ("cer", "cer"),
        ("WER", "wer"),
        ("ANLS", "anls"),
        ("ExactMatch", "exact_match"),
        ("exact_match", "exact_match"),
        ("Exact-Match", "exact_match"),
        ("EM", "exact_match"),
        ("accuracy", "accuracy"),
        ("Accuracy", "accuracy"),
        ("acc", "accuracy"),
    ],
)
def test_vlmhyperbench_spellings_resolve(spelling, name):
    assert get_metric(spelling).name == name


def test_builtin_metrics_are_listed_with_their_direction():
    specs = {spec.name: spec for spec in list_metrics()}
    assert {"exact_match", "cer", "wer", "anls", "accuracy"} <= set(specs)
    assert specs["cer"].higher_is_better is False
    assert specs["wer"].higher_is_better is False
    assert specs["anls"].higher_is_better is True
    assert all(spec.description for spec in specs.values())


def test_unknown_metric_lists_close_matches():
    with pytest.raises(MetricError) as caught:
        get_metric("ANSL")
    message = str(caught.value)
    assert "unknown metric 'ANSL'" in message
    assert "did you mean anls" in message


def test_unknown_metric_without_close_match_lists_known_ones():
    with pytest.raises(MetricError) as caught:
        get_metric("perplexity_xxl")
    assert "did you mean" not in str(caught.value)
    assert "cer" in str(caught.value) and "accuracy" in str(caught.value)


def test_metric_error_is_a_user_error():
    from vlmbench.errors import VlmbenchError

    assert issubclass(MetricError, VlmbenchError)


def test_register_a_new_metric(clean_registry):
    @register_metric("Answer_Length", higher_is_better=False, description="characters in the answer")
    def answer_length(prediction: str, sample: Sample) -> float:
        return len(prediction)

    spec = get_metric("answer length")
    assert spec.name == "Answer_Length" and spec.higher_is_better is False
    assert spec("abc", Sample(id="1", question="q", answer="a")) == 3.0


def test_a_taken_name_cannot_be_reused_by_another_function(clean_registry):
    with pytest.raises(MetricError, match="already taken"):

        @register_metric("my_cer", aliases=("CER",))
        def my_cer(prediction: str, sample: Sample) -> float:
            return 0.0


def test_importing_metrics_stays_light():
    code = (
        "import sys, vlmbench.metrics;"
        "print([m for m in ('torch', 'pandas', 'matplotlib') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
