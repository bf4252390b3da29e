#!/usr/bin/env python3
"""Regenerate the lock files in images/ (see vlmbench/docker/locks.py for what each holds).

    python scripts/lock-images.py [LOCK ...]     (default: every lock; needs `pip install uv`)

Each variant is resolved by `uv pip compile` for the images' Python (Debian
bookworm: CPython 3.11, glibc 2.36), the CPU one first with $PIP_FIND_LINKS
for the +cpu torch wheel. The GPU one is then held to the CPU one's pins, so
that both variants share every package they both need; packages whose pins
still differ must be named in the spec, else the script stops.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vlmbench.docker.context import requirements
from vlmbench.docker.locks import LOCKS, TOOLS, LockSpec, lock_path, normalise, own_packages, requirement_name

TARGET = ("--python-version", "3.11", "--python-platform", "x86_64-manylinux_2_36")
HEADER = """\
# images/{name}.lock: the Python environment of {images}.
# Made by `python scripts/lock-images.py {name}` from the top-level requirements below; change those
# (vlmbench/docker/locks.py, pyproject.toml) and rerun it rather than editing this file.
# Unprefixed lines go into every image of this lock; "#[cpu] " and "#[gpu] " lines into that variant's
# images only (pip reads them as comments; the build context uncomments them): the torch build differs
# (the +cpu wheel from $PIP_FIND_LINKS, which PyPI lacks, against PyPI's CUDA build and its nvidia-*
# wheels), and so does what only one variant needs. The images install them with
# `pip install --require-hashes --no-deps`, so a rebuild gets these exact files.
"""


def uv() -> str:
    found = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    if not found:
        sys.exit("lock-images needs uv: pip install uv")
    return found


def compile_variant(requirements_in: list[str], constraints: dict[str, str], omit: tuple[str, ...],
                    find_links: list[str]) -> dict[str, str]:
    """{name: its entry (the pin line and its hash lines)} for one variant."""
    with tempfile.TemporaryDirectory() as folder:
        source, pinned = Path(folder) / "requirements.in", Path(folder) / "constraints.txt"
        source.write_text("\n".join(requirements_in) + "\n")
        pinned.write_text("".join(f"{name}=={version}\n" for name, version in constraints.items()))
        command = [uv(), "pip", "compile", "--quiet", "--no-config", "--generate-hashes", "--no-header",
                   "--no-annotate", *TARGET, "-c", str(pinned), str(source)]
        command += [arg for folder in find_links for arg in ("--find-links", folder)]
        command += [arg for name in omit for arg in ("--no-emit-package", name)]
        # uv reads no pip.conf: the proxy's CA bundle is the one pip is told about.
        env = {**os.environ, "SSL_CERT_FILE": os.environ.get("SSL_CERT_FILE") or os.environ.get(
            "PIP_CERT", "/etc/ssl/certs/ca-certificates.crt")}
        output = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    entries: dict[str, str] = {}
    name = ""
    for line in output.splitlines():
        if not line.strip() or line.startswith(("#", "-")):
            continue
        if not line[0].isspace():  # "name==version \", then its indented hash lines
            name = normalise(line.split("==", 1)[0])
            entries[name] = ""
        entries[name] += line + "\n"
    return entries


def lock(spec: LockSpec) -> str:
    own = own_packages(spec)
    # An extra's `torch>=2.4` is left to the variants, which pin their own build.
    common = [req for req in [*spec.common, *requirements(ROOT / "pyproject.toml", spec.extras), *TOOLS]
              if requirement_name(req) not in own]
    find_links = os.environ.get("PIP_FIND_LINKS", "").replace(",", " ").replace(os.pathsep, " ").split()
    cpu = compile_variant([*spec.variants["cpu"], *common], {}, spec.omit.get("cpu", ()), find_links)
    held = {name: entry.split("==", 1)[1].split()[0] for name, entry in cpu.items()
            if name not in own and name not in spec.may_differ}
    # No find-links: `torch==2.13.0` would accept the local 2.13.0+cpu wheel.
    gpu = compile_variant([*spec.variants["gpu"], *common], held, spec.omit.get("gpu", ()), [])
    differing = sorted(n for n in cpu.keys() & gpu.keys() if cpu[n] != gpu[n] and n not in own | {
        *spec.may_differ})
    if differing:
        sys.exit(f"{spec.name}: the variants disagree on {', '.join(differing)}; name them in may_differ")
    images = ", ".join(f"vlmbench/{image} ({variant})" for image, variant in spec.images.items())
    lines = [HEADER.format(name=spec.name, images=images), "# Top-level requirements:\n"]
    lines += [f"#   {req}\n" for req in common]
    lines += [f"#   {variant}: {', '.join(reqs)}\n" for variant, reqs in spec.variants.items()]
    lines += [f"#   {variant} leaves out: {', '.join(names)}\n" for variant, names in spec.omit.items()]
    lines += [cpu[name] for name in sorted(cpu) if gpu.get(name) == cpu[name]]
    for variant, entries, other in (("cpu", cpu, gpu), ("gpu", gpu, cpu)):
        lines += ["".join(f"#[{variant}] {line}\n" for line in entries[name].splitlines())
                  for name in sorted(entries) if other.get(name) != entries[name]]
    return "".join(lines)


def main(names: list[str]) -> None:
    unknown = set(names) - {spec.name for spec in LOCKS}
    if unknown:
        sys.exit(f"no lock named {', '.join(sorted(unknown))}; the locks: {', '.join(s.name for s in LOCKS)}")
    for spec in LOCKS:
        if not names or spec.name in names:
            path = lock_path(ROOT / "images", spec)
            path.write_text(lock(spec))
            print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
