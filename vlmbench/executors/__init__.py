"""Executors decide where workers run: a subprocess, a container, a Slurm node."""

from __future__ import annotations

import importlib

from vlmbench.errors import ExecutorError
from vlmbench.executors.base import Executor

# Imported on demand: the docker SDK is not needed to run locally.
EXECUTORS: dict[str, str] = {
    "local": "vlmbench.executors.local:LocalExecutor",
    "docker": "vlmbench.executors.docker:DockerExecutor",
    "slurm": "vlmbench.executors.slurm:SlurmExecutor",
}


def get_executor(name: str, timeout_s: float | None = None) -> Executor:
    if name not in EXECUTORS:
        raise ExecutorError(f"unknown executor {name!r}", hint=f"choose one of: {', '.join(EXECUTORS)}")
    module_name, class_name = EXECUTORS[name].split(":")
    return getattr(importlib.import_module(module_name), class_name)(timeout_s=timeout_s)


__all__ = ["EXECUTORS", "Executor", "get_executor"]
