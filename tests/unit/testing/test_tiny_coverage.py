"""Every catalog family run through transformers or vLLM is checked by tiny models, or says why not.

A family may have several architectures (Qwen3-VL dense and MoE), so several tiny models.
"""

from __future__ import annotations

from vlmbench.catalog import load_catalog
from vlmbench.testing.tiny import NOT_CHECKED, TINY_ARCHS, tiny_family

MODEL_FRAMEWORKS = ("hf", "vllm", "vllm-server")


def _covered() -> dict[tuple[str, str], list[str]]:
    covered: dict[tuple[str, str], list[str]] = {}
    for arch in TINY_ARCHS:
        for framework, families in tiny_family(arch).stands_for.items():
            for family in families:
                covered.setdefault((framework, family), []).append(arch)
    return covered


def test_each_catalog_family_is_checked_by_one_tiny_model_or_says_why_not():
    covered = _covered()
    catalog = {(row.framework, row.model_family) for row in load_catalog([])
               if row.framework in MODEL_FRAMEWORKS and not (row.weights or "").startswith("vlmbench:")}
    missing = sorted(key for key in catalog if key not in covered and key not in NOT_CHECKED)
    assert not missing, f"catalog families neither checked nor explained: {missing}"
    both = sorted(key for key in covered if key in NOT_CHECKED)
    assert not both, f"checked and explained as unchecked at once: {both}"
    stale = sorted(key for key in [*covered, *NOT_CHECKED] if key not in catalog)
    assert not stale, f"families the catalog does not have: {stale}"
    assert all(why.strip() for why in NOT_CHECKED.values())
