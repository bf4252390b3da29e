"""Helpers for testing vlmbench and the models it runs, usable without a model hub.

``build_tiny_model`` writes tiny random checkpoints of real architectures
(one per family the catalog runs through transformers) that load through
the real adapters; ``tiny_family`` says what each one supports.
"""

from vlmbench.testing.tiny import TINY_ARCHS, build_tiny_model, tiny_family

__all__ = ["TINY_ARCHS", "build_tiny_model", "tiny_family"]
