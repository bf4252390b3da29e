"""The transformers adapter on tiny random models of real architectures, loaded as the worker loads them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import transformers  # noqa: F401  (a missing install must fail, not skip)
from PIL import Image

from tests.conftest import WORDS, make_text_dataset
from vlmbench.errors import ModelLoadError
from vlmbench.models.base import GenerationParams, Request
from vlmbench.registry import resolve_model_class
from vlmbench.testing import build_tiny_model, tiny_family
from vlmbench.testing.tiny import loadable_archs

pytestmark = [pytest.mark.integration, pytest.mark.transformers, pytest.mark.workers]
# Not the families the catalog runs only through vLLM (no transformers classes load them), nor those
# whose processors need a module this environment lacks (pixtral and mistral3 need torchvision).
HF_ARCHS = loadable_archs()

CLASS_PATH = "vlmbench.models.hf.adapter:HFVisionModel"
SHORT = GenerationParams(max_new_tokens=10)


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tiny-models")
    for arch in HF_ARCHS:
        build_tiny_model(arch, root / arch)
    return root


@pytest.fixture(scope="session")
def adapters(tiny_dir: Path):
    """One loaded adapter per architecture, shared by the tests that only read from it."""
    loaded = {}

    def get(arch: str):
        if arch not in loaded:
            loaded[arch] = resolve_model_class(CLASS_PATH)(weights=str(tiny_dir / arch), max_batch_size=8,
                                                           **tiny_family(arch).hf_params)
        return loaded[arch]

    yield get
    for model in loaded.values():
        model.close()


@contextmanager
def generate_calls(model) -> Iterator[list[int]]:
    """The batch size of each call to the real transformers generate(), which still runs."""
    sizes: list[int] = []
    real_generate = model.model.generate

    def counted(**kwargs):
        sizes.append(kwargs["input_ids"].shape[0])
        return real_generate(**kwargs)

    model.model.generate = counted
    try:
        yield sizes
    finally:
        del model.model.generate


def picture(width: int, height: int, colour: tuple[int, int, int]) -> Image.Image:
    image = Image.new("RGB", (width, height), colour)
    image.paste((255 - colour[0], 20, 200), (width // 4, height // 4, width // 2, height // 2))
    return image


RED = picture(100, 60, (200, 10, 10))
BLUE = picture(48, 90, (10, 40, 220))
WIDE = picture(300, 120, (30, 160, 60))


def mixed_requests(params: GenerationParams = SHORT, arch: str = "qwen2_vl") -> list[Request]:
    """Prompts of different lengths and image counts, so a batch needs real padding.

    Only what `arch` answers: one-image families get one picture each, families without text-only
    requests none without.
    """
    family = tiny_family(arch)
    requests = [
        Request(prompt="What is written?", images=[RED], params=params),
        Request(prompt="Hello", params=params),
        Request(prompt="Compare the two pictures: which one is wider?", images=[BLUE, WIDE], params=params),
        Request(prompt="Invoice total?", images=[WIDE], system_prompt="Answer with a number.", params=params),
        Request(prompt="A much longer question without any picture, about the seller and the buyer.",
                params=params),
        Request(prompt="Colour?", images=[BLUE], params=params),
    ]
    fallback = [RED, BLUE, WIDE]
    fitted = []
    for index, request in enumerate(requests):
        images = request.images[:family.max_images] if family.max_images else request.images
        if not images and not family.text_only:
            images = [fallback[index % 3]]
        fitted.append(request.model_copy(update={"images": images}))
    return fitted


def test_registered_names_resolve_to_the_adapter():
    cls = resolve_model_class(CLASS_PATH)
    assert resolve_model_class("hf") is cls and resolve_model_class("transformers") is cls


@pytest.mark.parametrize("arch", HF_ARCHS)
def test_text_single_and_multi_image_requests_answer(arch, adapters):
    model, family = adapters(arch), tiny_family(arch)
    requests = [Request(prompt="Hello", params=SHORT),
                Request(prompt="What is it?", images=[RED], params=SHORT),
                Request(prompt="Which is wider?", images=[BLUE, WIDE], params=SHORT)]
    image_counts = [0, 1, 2]
    if family.max_images == 1 or not family.text_only:
        keep = [i for i, n in enumerate(image_counts) if n <= (family.max_images or 2) and (n or family.text_only)]
        requests, image_counts = [requests[i] for i in keep], [image_counts[i] for i in keep]
    answers = model.generate(requests)
    assert len(answers) == len(requests) and all(isinstance(a, str) and a for a in answers)
    assert not any("Which is wider?" in a for a in answers), "only the new tokens are decoded"
    if family.placeholder is None:
        return
    assert [model.format_prompt(r).count(family.placeholder) for r in requests] == image_counts
    # The processor expands each placeholder into the image's tokens (Aya Vision's are not the placeholder).
    image_token = (getattr(model.processor, "image_token_id", None)
                   or model.processor.tokenizer.convert_tokens_to_ids(family.placeholder))
    counts = (model.prepare_inputs(requests)["input_ids"] == image_token).sum(dim=1).tolist()
    assert counts[0] == 0 and 0 < counts[1] < counts[2]


@pytest.mark.parametrize("arch", HF_ARCHS)
def test_greedy_batched_answers_equal_one_by_one(arch, adapters):
    model = adapters(arch)
    requests = mixed_requests(arch=arch)
    with generate_calls(model) as sizes:
        batched = model.generate(requests)
    assert sizes == [len(requests)], "one generate() call per batch"
    one_by_one = [model.generate([request])[0] for request in requests]
    assert batched == one_by_one
    # Answers that depend on the input make the comparison above mean something; a model that does not
    # read the prompt can only tell the pictures apart.
    family = tiny_family(arch)
    pictures = {id(image) for request in requests for image in request.images}
    assert len(set(batched)) >= (4 if family.reads_prompt else len(pictures))
    if family.reads_prompt:  # the others' prompts are all alike: nothing to pad (test_hf_task_models.py pads)
        mask = model.prepare_inputs(requests)["attention_mask"]
        assert mask[:, -1].all() and not mask[:, 0].all(), "prompts must be padded on the left"


def test_batches_are_cut_at_max_batch_size_and_keep_order(tiny_dir, adapters):
    model = resolve_model_class(CLASS_PATH)(weights=str(tiny_dir / "qwen2_vl"), max_batch_size=4)
    requests = mixed_requests()
    with generate_calls(model) as sizes:
        answers = model.generate(requests)
    assert sizes == [4, 2]
    assert answers == adapters("qwen2_vl").generate(requests)


@pytest.mark.parametrize("arch", [arch for arch in HF_ARCHS if tiny_family(arch).placeholder])
def test_system_prompt_reaches_the_template(arch, adapters):
    model = adapters(arch)
    plain = Request(prompt="What is it?", images=[RED], params=SHORT)
    with_system = plain.model_copy(update={"system_prompt": "Reply in Russian only."})
    prompt = model.format_prompt(with_system)
    assert "Reply in Russian only." in prompt and "Reply in Russian" not in model.format_prompt(plain)
    assert prompt.index("Reply in Russian") < prompt.index("What is it?")
    assert model.generate([plain]) != model.generate([with_system])


@pytest.mark.parametrize("arch", HF_ARCHS)
def test_max_new_tokens_is_respected(arch, adapters):
    model = adapters(arch)
    before = model.tokens_generated
    short = model.generate(mixed_requests(GenerationParams(max_new_tokens=3), arch))
    assert 0 < model.tokens_generated - before <= 3 * len(short)
    long = model.generate(mixed_requests(GenerationParams(max_new_tokens=12), arch))
    # Greedy: the longer answer continues the shorter one (a cut multi-byte character decodes as U+FFFD).
    for s, lo in zip(short, long, strict=True):
        assert lo.startswith(s.rstrip("\ufffd")), (s, lo)
    assert sum(map(len, long)) > sum(map(len, short))


def test_sampling_follows_temperature(adapters):
    model = adapters("qwen2_vl")
    hot = GenerationParams(max_new_tokens=12, temperature=5.0)
    answers = {model.generate([Request(prompt="Hello", params=hot)])[0] for _ in range(4)}
    assert len(answers) > 1, "sampling at a high temperature should not repeat itself"
    greedy = {model.generate([Request(prompt="Hello", params=SHORT)])[0] for _ in range(2)}
    assert len(greedy) == 1


def test_qwen_pixel_bounds_set_the_image_token_count(tiny_dir):
    cls = resolve_model_class(CLASS_PATH)
    request = [Request(prompt="Read it", images=[picture(200, 200, (90, 90, 90))], params=SHORT)]

    def image_tokens(model) -> int:
        token = model.processor.tokenizer.convert_tokens_to_ids("<|image_pad|>")
        return int((model.prepare_inputs(request)["input_ids"] == token).sum())

    # The checkpoint allows 112x112 pixels: 4x4 merged 28-pixel patches; 56x56 pixels are 2x2.
    assert image_tokens(cls(weights=str(tiny_dir / "qwen2_5_vl"))) == 16
    small = cls(weights=str(tiny_dir / "qwen2_5_vl"), min_pixels=28 * 28, max_pixels=56 * 56)
    assert image_tokens(small) == 4
    assert small.generate(request)[0]


def test_bad_params_are_refused_with_the_known_ones(tiny_dir):
    cls = resolve_model_class(CLASS_PATH)
    with pytest.raises(ModelLoadError) as error:
        cls(weights=str(tiny_dir / "llava"), max_pixel=100)
    assert "max_pixel" in str(error.value) and "max_pixels" in str(error.value)
    with pytest.raises(ModelLoadError, match="Qwen"):
        cls(weights=str(tiny_dir / "llava"), max_pixels=100_000)
    with pytest.raises(ModelLoadError, match="repetiton_penalty"):
        cls(weights=str(tiny_dir / "llava"), generation={"repetiton_penalty": 1.2})


def test_generation_defaults_reach_generate(tiny_dir, adapters):
    request = [Request(prompt="What is it?", images=[RED], params=GenerationParams(max_new_tokens=16))]
    penalised = resolve_model_class(CLASS_PATH)(weights=str(tiny_dir / "idefics3"),
                                                 generation={"repetition_penalty": 5.0})
    assert penalised.generate(request) != adapters("idefics3").generate(request)


def test_a_cached_repo_loads_without_network(tmp_path, tiny_dir, monkeypatch):
    """A repo id whose snapshot is in the HF cache loads offline, as on a machine with a mounted cache."""
    from huggingface_hub import constants

    repo = tmp_path / "hub" / "models--tiny--llava"
    shutil.copytree(tiny_dir / "llava", repo / "snapshots" / "0123abcd")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = resolve_model_class(CLASS_PATH)(weights="tiny/llava")
    assert Path(model.path) == repo / "snapshots" / "0123abcd"
    assert model.generate([Request(prompt="Hi", images=[RED], params=SHORT)])[0]


# --- weights that cannot be found: a clear error within seconds, never a hang --------------------------

LOAD_SNIPPET = (
    "import sys\n"
    "from vlmbench.errors import ModelLoadError\n"
    "from vlmbench.registry import resolve_model_class\n"
    "try:\n"
    f"    resolve_model_class({CLASS_PATH!r})(weights=sys.argv[1])\n"
    "except ModelLoadError as exc:\n"
    "    print(exc)\n"
    "    sys.exit(3)\n"
)


def load_in_subprocess(weights: str, hf_home: Path, offline: bool) -> tuple[str, int, float]:
    """Load as a fresh worker process would: (output, exit code, seconds)."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_CACHE")}
    env["HF_HOME"] = str(hf_home)
    if offline:
        env["HF_HUB_OFFLINE"] = "1"
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-c", LOAD_SNIPPET, weights], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    return done.stdout + done.stderr, done.returncode, time.monotonic() - start


@pytest.mark.parametrize("offline", [True, False], ids=["HF_HUB_OFFLINE=1", "online-but-unreachable"])
def test_missing_hub_weights_fail_fast_and_say_where_they_looked(tmp_path, offline):
    output, code, seconds = load_in_subprocess("no-such-org/no-such-vlm", tmp_path / "hf", offline)
    assert code == 3, output
    assert seconds < 20, f"took {seconds:.1f} s"
    assert "no-such-org/no-such-vlm" in output and str(tmp_path / "hf" / "hub") in output
    assert ("HF_HUB_OFFLINE is set" in output) if offline else ("cannot be reached" in output)


def test_missing_local_folder_names_the_path(tmp_path):
    gone = tmp_path / "models" / "gone"
    output, code, seconds = load_in_subprocess(str(gone), tmp_path / "hf", offline=True)
    assert code == 3 and seconds < 20, output
    assert str(gone) in output and "does not exist" in output


# --- end to end: `vlmbench run` with a catalog row pointing at a tiny model ---------------------------

@pytest.mark.slow
def test_vlmbench_run_answers_with_a_tiny_model(tmp_path, tiny_dir):
    dataset = make_text_dataset(tmp_path / "words", WORDS[:5])
    catalog = tmp_path / "catalog.csv"
    params = json.dumps({"max_batch_size": 4, "dtype": "float32"}).replace('"', '""')
    catalog.write_text(
        "framework,model_family,model_name,docker_image,python_package,module,class_name,weights,params\n"
        f"hf,Qwen2-VL,tiny-qwen2-vl,,vlmbench,models.hf.adapter,HFVisionModel,{tiny_dir / 'qwen2_vl'},"
        f"\"{params}\"\n", encoding="utf-8")
    config = tmp_path / "run.csv"
    config.write_text("model_name,dataset,metrics,batch_size,max_new_tokens,system_prompt\n"
                      f"tiny-qwen2-vl,{dataset},['exact_match'],4,6,Answer briefly.\n", encoding="utf-8")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "vlmbench", "run", str(config), "--out", str(out),
               "--catalog", str(catalog)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stdout + done.stderr
    (job_dir,) = (out / "jobs").iterdir()
    status = json.loads((job_dir / "status.json").read_text())
    assert status["state"] == "done" and status["n_done"] == 5 and status["n_errors"] == 0
    predictions = [json.loads(line) for line in (job_dir / "predictions.jsonl").read_text().splitlines()]
    assert [p["id"] for p in predictions] == [f"s{i}" for i in range(5)]
    assert all(p["answer"] and p["error"] is None for p in predictions)
    assert (out / "results.csv").is_file()
