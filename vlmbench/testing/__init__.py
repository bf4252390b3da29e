"""Helpers for testing vlmbench and the models it runs, usable without a model hub.

``build_tiny_model`` writes tiny random checkpoints of real architectures
(LLaVA, Idefics3, Qwen2-VL, Qwen2.5-VL) that load through the real adapters.
"""

from vlmbench.testing.tiny_models import TINY_ARCHS, build_tiny_model

__all__ = ["TINY_ARCHS", "build_tiny_model"]
