"""The GPU images build on this machine, with no registry, and hold their CPU twins' versions.

vlmbench/transformers-gpu and vlmbench/vllm build on the debootstrap base
with PyPI's CUDA wheels: several GB of downloads and about 25 GB of disk for
both, tens of minutes (see the README), so this runs only when
VLMBENCH_TEST_GPU_IMAGES=1 is set (`make test-gpu-images`). No GPU is needed:
torch imports its CUDA build without one.
"""

from __future__ import annotations

import os

import pytest

from tests.docker.answers import answers_by_row
from tests.docker.conformance import environment, run_jobs
from tests.docker.conftest import CPU_IMAGE
from vlmbench.docker.build import build_images
from vlmbench.docker.context import source_root
from vlmbench.docker.locks import lock_for, lock_path, normalise, own_packages, pins, split_lock
from vlmbench.testing.tiny import TINY_ARCHS, tiny_family
from vlmbench.verification import Check, forget_checks, record_check

pytestmark = [
    pytest.mark.docker, pytest.mark.integration, pytest.mark.slow, pytest.mark.gpu_images,
    pytest.mark.skipif(os.environ.get("VLMBENCH_TEST_GPU_IMAGES") != "1",
                       reason="builds the CUDA images (GBs of wheels): set VLMBENCH_TEST_GPU_IMAGES=1"),
]
TWINS = [("cpu", "transformers-gpu"), ("vllm-cpu", "vllm")]


def run_python(client, image: str, code: str) -> str:
    output = client.containers.run(image, ["-c", code], entrypoint="python", remove=True,
                                   network_disabled=True)
    return output.decode().strip()


def installed(client, image: str) -> dict[str, str]:
    """{name: version} of the image's venv, vlmbench itself left out."""
    freeze = run_python(client, image, "import importlib.metadata as m; print('\\n'.join("
                                       "f'{d.name}=={d.version}' for d in m.distributions()))")
    found = (line.split("==", 1) for line in freeze.splitlines())
    return {normalise(name): version for name, version in found if normalise(name) != "vlmbench"}


@pytest.mark.parametrize(("cpu", "gpu"), TWINS, ids=[gpu for _, gpu in TWINS])
def test_a_gpu_image_holds_its_lock_and_its_cpu_twins_versions(docker_client, cpu_image, cpu, gpu):
    results = build_images([cpu, gpu])
    assert all(result.ok for result in results), [result.error for result in results]
    spec, _ = lock_for(gpu)
    lock = split_lock(lock_path(source_root() / "images", spec).read_text(encoding="utf-8"))
    on_cpu, on_gpu = (installed(docker_client, result.tag) for result in results)
    # Exactly the lock's pins: the shared ones, then each variant's own.
    assert on_gpu == {**pins(lock["common"]), **pins(lock["gpu"])}
    assert on_cpu == {**pins(lock["common"]), **pins(lock["cpu"])}
    shared = on_cpu.keys() & on_gpu.keys()
    own = own_packages(spec)
    assert {n: on_cpu[n] for n in shared - own - set(spec.may_differ)} == {
        n: on_gpu[n] for n in shared - own - set(spec.may_differ)}
    if gpu == "transformers-gpu":
        torch, cuda, transformers = run_python(docker_client, results[1].tag, "import torch, transformers; "
                                               "print(torch.__version__, torch.version.cuda, "
                                               "transformers.__version__)").split()
        # torch names its CUDA build in __version__ (2.13.0+cu130), not in its package metadata.
        assert torch.split("+")[0] == on_gpu["torch"] and cuda != "None"
        assert transformers == on_cpu["transformers"] == on_gpu["transformers"]
    else:
        # vLLM's CUDA build cannot start an engine without a GPU: built and holding vllm-cpu's versions is
        # what is shown of the catalog's vllm rows here (their tiny models ran in vllm-cpu).
        for framework in ("vllm", "vllm-server"):
            _record_image_checks(framework, results[1].tag, {"vllm": on_gpu["vllm"]},
                                 ["built from images/vllm.lock", "versions = vlmbench/vllm-cpu's"])


def _record_image_checks(framework: str, image: str, versions: dict[str, str], cases: list[str]) -> None:
    for arch in TINY_ARCHS:
        for model_family in tiny_family(arch).stands_for.get(framework, ()):
            record_check(Check(framework=framework, model_family=model_family, where="image", arch=arch,
                               image=image, versions=versions, cases=cases))


HF_ARCHS = [arch for arch in TINY_ARCHS if "hf" in tiny_family(arch).stands_for]


def test_the_tiny_models_answer_in_the_transformers_gpu_image_as_in_its_cpu_twin(tmp_path, cpu_image):
    """The catalog's hf rows name vlmbench/transformers-gpu: each family's tiny model runs in it (its
    CUDA torch computes on the CPU here) and answers exactly as in vlmbench/cpu, built from the same lock."""
    [gpu] = build_images(["transformers-gpu"])
    assert gpu.ok, gpu.error
    for arch in HF_ARCHS:
        for model_family in tiny_family(arch).stands_for["hf"]:
            forget_checks("hf", model_family, "image", arch)
    jobs = {arch: [(f"tiny-{arch}{suffix}", "hf", image, {"dtype": "float32", **tiny_family(arch).hf_params})
                   for suffix, image in (("", CPU_IMAGE), ("-gpu-image", gpu.tag))] for arch in HF_ARCHS}
    run_dir = run_jobs(tmp_path, jobs)
    answers = answers_by_row(run_dir)
    failed = []
    for arch in HF_ARCHS:
        on_cpu, on_gpu = answers[f"tiny-{arch}", "hf"], answers[f"tiny-{arch}-gpu-image", "hf"]
        if not on_gpu or on_gpu != on_cpu or any(error for _, _, error in on_gpu):
            failed.append((arch, on_cpu, on_gpu))
            continue
        image, versions = environment(run_dir, f"tiny-{arch}-gpu-image", "hf")
        for model_family in tiny_family(arch).stands_for["hf"]:
            record_check(Check(framework="hf", model_family=model_family, where="image", arch=arch, image=image,
                               versions=versions, cases=["answers = vlmbench/cpu's (same lock), on the CPU"]))
    assert not failed, failed
