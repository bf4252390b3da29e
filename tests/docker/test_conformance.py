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

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.docker.answers import answers_by_row, job_status, run_jobs, same_tokens
from tests.docker.conftest import CPU_IMAGE, extra_catalog
from vlmbench.docker.names import image_tag
from vlmbench.runner import RunOptions, run
from vlmbench.testing.tiny import NOT_CHECKED, TINY_ARCHS, TinyFamily, build_tiny_model, tiny_family
from vlmbench.verification import Check, forget_checks, record_check, record_unchecked

pytestmark = [pytest.mark.docker, pytest.mark.integration, pytest.mark.slow]

VLLM_CPU_IMAGE = image_tag("vllm-cpu")
ADAPTERS = {"hf": ("models.hf.adapter", "HFVisionModel"), "vllm": ("models.vllm_engine", "VLLMModel"),
            "vllm-server": ("models.vllm_engine", "VLLMServerModel")}
# float32: vLLM's "auto" runs float32 weights in bfloat16, the transformers adapter keeps them.
# enforce_eager: no torch.compile, so the engine starts in seconds, not minutes, on CPU.
VLLM_ENGINE = {"dtype": "float32", "enforce_eager": True, "max_model_len": 1024}
MAX_NEW_TOKENS = 8
# (id, question, image colours): different lengths and image counts, so a batch needs real padding.
QUESTIONS = [
    ("text-1", "Hello", []),
    ("text-2", "A much longer question without any picture, about the seller and the buyer.", []),
    ("one-1", "What is written?", [(200, 10, 10)]),
    ("one-2", "Colour?", [(10, 40, 220)]),
    ("one-3", "Invoice total? Answer with a number.", [(30, 160, 60)]),
    ("two-1", "Compare the two pictures: which one is wider?", [(10, 40, 220), (30, 160, 60)]),
    ("two-2", "Are these the same?", [(200, 10, 10), (200, 200, 20)]),
]
SIZES = [(100, 60), (48, 90), (300, 120)]


def _questions(family: TinyFamily) -> list[tuple[str, str, list]]:
    return [(id_, text, colours) for id_, text, colours in QUESTIONS
            if (colours or family.text_only) and len(colours) <= (family.max_images or 2)]


def cases(family: TinyFamily, framework: str) -> list[str]:
    """What a passing check has shown, in words list-models' JSON carries."""
    counts = {len(colours) for _, _, colours in _questions(family)}
    names = {0: "text only", 1: "one image", 2: "two images"}
    shown = [names[count] for count in sorted(counts)]
    held_to = "answers = transformers adapter's" if framework != "hf" and family.hf else "batched = one at a time"
    return [*shown, held_to]


def _dataset(root: Path, family: TinyFamily) -> Path:
    """A folder with annotations.jsonl of the questions `family` takes."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    lines = []
    for number, (id_, question, colours) in enumerate(_questions(family)):
        paths = []
        for index, colour in enumerate(colours):
            width, height = SIZES[(number + index) % len(SIZES)]
            image = Image.new("RGB", (width, height), colour)
            image.paste((255 - colour[0], 20, 200), (width // 4, height // 4, width // 2, height // 2))
            paths.append(f"images/{id_}-{index}.png")
            image.save(root / paths[-1])
        lines.append(json.dumps({"id": id_, "images": paths, "question": question, "answer": "x"}))
    (root / "annotations.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def _params(**params: Any) -> str:
    """A params cell of the catalog CSV."""
    return '"' + json.dumps(params).replace('"', '""') + '"'


def _jobs_for(arch: str) -> list[tuple[str, str, str, dict[str, Any]]]:
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
    root = tmp_path_factory.mktemp("conformance")
    catalog_rows, config = [], ["model_name,framework,dataset,max_new_tokens,temperature,metrics"]
    for arch in archs:
        weights = build_tiny_model(arch, root / "models" / arch)
        dataset = _dataset(root / "data" / arch, tiny_family(arch))
        for name, framework, image, params in _jobs_for(arch):
            module, class_name = ADAPTERS[framework]
            catalog_rows.append(f"{framework},tiny,{name},{image},vlmbench,{module},{class_name},{weights},"
                                + _params(**params))
            config.append(f"{name},{framework},{dataset},{MAX_NEW_TOKENS},0,exact_match")
    (root / "run.csv").write_text("\n".join(config) + "\n", encoding="utf-8")
    catalog = extra_catalog(root / "catalog.csv", catalog_rows)
    # Failed jobs are each test's business: the run's exit code is not asserted here.
    run(root / "run.csv", RunOptions(executor="docker", out=root / "out", catalogs=[catalog], jobs=2))
    return root / "out"


@pytest.fixture(scope="module")
def no_leftover_containers_module(docker_client):
    yield
    from tests.docker.conftest import labelled_containers

    left = labelled_containers(docker_client)
    for container in left:
        container.remove(force=True)
    assert not left, f"containers left behind: {[c.name for c in left]}"


def _environment(run_dir: Path, model_name: str, framework: str) -> tuple[str, dict[str, str]]:
    [job] = [job for job in run_jobs(run_dir)
             if (job["config_row"]["model_name"], job["config_row"]["framework"]) == (model_name, framework)]
    versions = {key: str(value) for key, value in (job.get("environment") or {}).items()
                if value is not None and key in ("python", "torch", "transformers", "vllm", "vllm_distribution")}
    return job["image"], versions


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
    expected_ids = [id_ for id_, _, _ in _questions(family)]
    assert [id_ for id_, _, _ in batched] == expected_ids, batched
    assert all(error is None and answer for _, answer, error in batched), batched
    assert batched == one_by_one, "greedy answers must not depend on the batch"
    # Answers that depend on the input make the comparisons mean something.
    assert len({answer for _, answer, _ in batched}) >= min(3, len(batched)), batched
    for framework in (name for name in family.stands_for if name.startswith("vllm") and family.hf):
        got = answers[f"tiny-{arch}", framework]
        assert [(id_, error) for id_, _, error in got] == [(id_, None) for id_ in expected_ids], got
        pairs = [(answer, reference) for (_, answer, _), (_, reference, _) in zip(got, batched, strict=True)]
        assert all(same_tokens(*pair) for pair in pairs), (framework, pairs)

    for framework, families in family.stands_for.items():
        model_name = f"tiny-{arch}"
        image, versions = _environment(conformance_run, model_name, framework)
        for model_family in families:
            record_check(Check(framework=framework, model_family=model_family, where="cpu", arch=arch,
                               image=image, versions=versions, cases=cases(family, framework)))


def test_the_families_no_tiny_model_checks_are_recorded_with_their_reasons():
    """list-models --json says why a row has no check; the reasons live beside the builders."""
    from vlmbench.verification import load_verification

    record_unchecked(NOT_CHECKED)
    recorded = {(item.framework, item.model_family): item.reason for item in load_verification().unchecked}
    assert recorded == NOT_CHECKED
