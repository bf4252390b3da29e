"""How the project's own images are named: ``vlmbench/<name>:<version>``.

The catalog's ``docker_image`` column uses these names (``vlmbench/cpu:0.1.0``
runs the OCR baselines, ``vlmbench/transformers-gpu:0.1.0`` the transformers
models, ``vlmbench/vllm:0.1.0`` the vLLM ones, ``vlmbench/vllm-cpu:0.1.0`` vLLM
on CPU). The tag is the vlmbench version inside, so a host and an image of
the same version always agree on the job.json schema. Each name is a folder ``images/<name>/`` with a
Dockerfile that takes ``ARG BASE_IMAGE``.
"""

from __future__ import annotations

from pathlib import Path

from vlmbench import __version__

REPOSITORY = "vlmbench"
PROJECT_IMAGES: tuple[str, ...] = ("cpu", "transformers-gpu", "vllm", "vllm-cpu")


def image_tag(name: str, version: str = __version__) -> str:
    """``cpu`` → ``vlmbench/cpu:<version>``."""
    return f"{REPOSITORY}/{name}:{version}"


def split_tag(image: str) -> tuple[str, str]:
    """``repo/name:tag`` → (``repo/name``, ``tag``); a registry port is not a tag."""
    repository, _, tag = image.rpartition(":")
    if not repository or "/" in tag:
        return image, "latest"
    return repository, tag


def project_image_name(image: str) -> str | None:
    """``vlmbench/cpu:0.1.0`` → ``cpu``; None for an image this project does not build."""
    repository, _ = split_tag(image)
    prefix = f"{REPOSITORY}/"
    name = repository.removeprefix(prefix)
    return name if repository.startswith(prefix) and name in PROJECT_IMAGES else None


def images_dir() -> Path | None:
    """The source tree's ``images/`` folder; None when vlmbench is installed without its sources."""
    candidate = Path(__file__).resolve().parents[2] / "images"
    return candidate if candidate.is_dir() else None


def how_to_get(image: str) -> str:
    """The command that makes a missing image appear."""
    name = project_image_name(image)
    if name:
        return f"run `vlmbench build-images {name}` (or `vlmbench pull-images` where a registry has it)"
    return f"run `vlmbench pull-images --config RUN.csv` or `docker pull {image}`"
