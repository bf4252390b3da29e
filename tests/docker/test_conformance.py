"""Conformance: a tiny model of every architecture the catalog runs, through the row's own framework and image.

For each tiny architecture (vlmbench.testing.tiny) and each catalog
framework it stands for, one `vlmbench run --executor docker` holds:

* ``hf``: two transformers-adapter jobs in vlmbench/cpu (the CPU twin of
  vlmbench/transformers-gpu, built from the same lock) on text-only,
  one-image and two-image questions, as far as the family takes them: one
  answering in batches of 8, one a request at a time. Greedy answers must be
  equal and depend on the input.
* ``vllm`` / ``vllm-server``: the vLLM adapter in vlmbench/vllm-cpu on the
  same questions; answers must be the transformers adapter's, up to a token
  cut mid-character (tests/docker/answers.py says why).

Each check that passes is recorded in vlmbench/data/verification.json with
the versions the job's own environment reported (run.json), which is what
`vlmbench list-models` shows; one that fails is taken out of it first.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docker.answers import answers_by_row, job_status, same_tokens
from tests.docker.conformance import VLLM_ENGINE, Job, cases, environment, questions, run_jobs
from tests.docker.conftest import CPU_IMAGE
from vlmbench.docker.names import image_tag
from vlmbench.testing.tiny import NOT_CHECKED, TINY_ARCHS, tiny_family
from vlmbench.verification import Check, forget_checks, record_check, record_unchecked

pytestmark = [pytest.mark.docker, pytest.mark.integration, pytest.mark.slow]

VLLM_CPU_IMAGE = image_tag("vllm-cpu")


def _jobs_for(arch: str) -> list[Job]:
    """(model name, framework, image, params) of every job checking `arch`.

    The transformers answers, batched and one at a time, are what the vLLM jobs are held to; a family
    transformers has no classes for (``hf=False``) is held to its own vLLM answers one at a time.
    """
    family = tiny_family(arch)
    vllm = {**VLLM_ENGINE, **family.vllm_params}
    frameworks = [name for name in ("vllm", "vllm-server") if name in family.stands_for]
    if not family.hf:
        return [(f"tiny-{arch}", "vllm", VLLM_CPU_IMAGE, {**vllm, "max_batch_size": 8}),
                (f"tiny-{arch}-one", "vllm", VLLM_CPU_IMAGE, {**vllm, "max_batch_size": 1})]
    hf = {"dtype": "float32", **family.hf_params}  # Florence-2's task, as the catalog's rows set it
    jobs = [(f"tiny-{arch}", "hf", CPU_IMAGE, {**hf, "max_batch_size": 8}),
            (f"tiny-{arch}-one", "hf", CPU_IMAGE, {**hf, "max_batch_size": 1})]
    return jobs + [(f"tiny-{arch}", framework, VLLM_CPU_IMAGE, vllm) for framework in frameworks]


def _checked_archs() -> list[str]:
    """Every architecture a catalog family stands on, whose folder this environment can build."""
    return [arch for arch in TINY_ARCHS if tiny_family(arch).stands_for]


@pytest.fixture(scope="module")
def conformance_run(tmp_path_factory, cpu_image, no_leftover_containers_module) -> Path:
    """One docker run of every conformance job; each test below reads its own jobs from it."""
    from vlmbench.docker.build import build_images

    archs = _checked_archs()
    if any(image == VLLM_CPU_IMAGE for arch in archs for _, _, image, _ in _jobs_for(arch)):
        [result] = build_images(["vllm-cpu"])
        if not result.ok:
            pytest.fail(f"building {result.tag} failed: {result.error}", pytrace=False)
    return run_jobs(tmp_path_factory.mktemp("conformance"), {arch: _jobs_for(arch) for arch in archs})


@pytest.fixture(scope="module")
def no_leftover_containers_module(docker_client):
    yield
    from tests.docker.conftest import labelled_containers

    left = labelled_containers(docker_client)
    for container in left:
        container.remove(force=True)
    assert not left, f"containers left behind: {[c.name for c in left]}"


@pytest.mark.parametrize("arch", _checked_archs())
def test_the_tiny_model_answers_through_each_framework_it_stands_for(arch, conformance_run):
    family = tiny_family(arch)
    for framework, families in family.stands_for.items():
        for model_family in families:
            forget_checks(framework, model_family, "cpu", arch)
    answers = answers_by_row(conformance_run)
    for model_name, framework, _, _ in _jobs_for(arch):
        status = job_status(conformance_run, model_name, framework)
        assert status["state"] == "done", (model_name, framework, status)
    reference = "hf" if family.hf else "vllm"
    batched, one_by_one = answers[f"tiny-{arch}", reference], answers[f"tiny-{arch}-one", reference]
    expected_ids = [id_ for id_, _, _ in questions(family)]
    assert [id_ for id_, _, _ in batched] == expected_ids, batched
    # A random model may end an answer at once (one empty answer); the distinct answers below still count.
    assert all(error is None for _, _, error in batched), batched
    assert batched == one_by_one, "greedy answers must not depend on the batch"
    # Answers that depend on the input make the comparisons mean something.
    assert len({answer for _, answer, _ in batched}) >= min(3, len(batched)), batched
    for framework in (name for name in family.stands_for if name.startswith("vllm") and family.hf):
        got = answers[f"tiny-{arch}", framework]
        assert [(id_, error) for id_, _, error in got] == [(id_, None) for id_ in expected_ids], got
        pairs = [(answer, expected) for (_, answer, _), (_, expected, _) in zip(got, batched, strict=True)]
        assert all(same_tokens(*pair) for pair in pairs), (framework, pairs)

    for framework, families in family.stands_for.items():
        model_name = f"tiny-{arch}"
        image, versions = environment(conformance_run, model_name, framework)
        for model_family in families:
            record_check(Check(framework=framework, model_family=model_family, where="cpu", arch=arch,
                               image=image, versions=versions, cases=cases(family, framework)))


def test_the_families_no_tiny_model_checks_are_recorded_with_their_reasons():
    """list-models --json says why a row has no check; the reasons live beside the builders."""
    from vlmbench.verification import load_verification

    record_unchecked(NOT_CHECKED)
    recorded = {(item.framework, item.model_family): item.reason for item in load_verification().unchecked}
    assert recorded == NOT_CHECKED
