"""Executors decide where workers run: a subprocess, a container, a Slurm node."""

from __future__ import annotations

import importlib

from vlmbench.errors import ConfigError, ExecutorError
from vlmbench.executors.base import Executor

# Imported on demand: the docker SDK is not needed to run locally.
EXECUTORS: dict[str, str] = {
    "local": "vlmbench.executors.local:LocalExecutor",
    "docker": "vlmbench.executors.docker:DockerExecutor",
    "slurm": "vlmbench.executors.slurm:SlurmExecutor",
}


def get_executor(name: str, timeout_s: float | None = None, container_runtime: str | None = None) -> Executor:
    """The executor ``name``; ``container_runtime`` (slurm only) runs each batch job's worker in its image."""
    if name not in EXECUTORS:
        raise ExecutorError(f"unknown executor {name!r}", hint=f"choose one of: {', '.join(EXECUTORS)}")
    module_name, class_name = EXECUTORS[name].split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    if name == "slurm":
        return cls(timeout_s=timeout_s, container_runtime=container_runtime)
    if container_runtime and container_runtime.strip().lower() not in ("", "none"):
        raise ConfigError(f"--container-runtime is for --executor slurm, not {name}",
                          hint="the docker executor runs containers itself; leave the option out")
    return cls(timeout_s=timeout_s)


__all__ = ["EXECUTORS", "Executor", "get_executor"]
