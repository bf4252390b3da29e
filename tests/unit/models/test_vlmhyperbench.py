"""Classes written for VLMHyperBench's model_interface, found by the registry and driven by the adapter."""

import sys
import textwrap
from pathlib import Path

import pytest
from PIL import Image

from vlmbench.errors import ModelLoadError, RegistryError
from vlmbench.models.base import Request, VisionLanguageModel
from vlmbench.models.vlmhyperbench import VLMHyperBenchModel, adapter_for
from vlmbench.registry import resolve_model_class
from vlmbench.rundir.records import DatasetRef, JobSpec, ModelRef, PromptSpec

# Both constructor forms of their interface: model_interface 0.1.x's keywords (their run_vlm.py passes
# model_name, system_prompt, cache_dir) and 0.1.3's single model_config (ModelFactory.initialize_model).
THEIR_MODULE = '''
from PIL import Image


class Classic:
    def __init__(self, model_name, system_prompt, cache_dir, device_map=None):
        self.built_with = dict(model_name=model_name, system_prompt=system_prompt, cache_dir=cache_dir,
                               device_map=device_map)
        self.calls = []

    def predict_on_image(self, image, question):
        self.calls.append((image, question))
        with Image.open(image) as opened:
            return f"{opened.getpixel((0, 0))} {question}"

    def predict_on_images(self, images, question):
        self.calls.append((images, question))
        return str(len(images))


class Configured:
    def __init__(self, model_config):
        self.model_config = model_config

    def predict_on_image(self, image, prompt):
        return None


class OnlyOne:
    def __init__(self, model_name, system_prompt, cache_dir):
        pass

    def predict_on_image(self, image, prompt):
        return "one"


class NoInterface:
    def __init__(self, model_name):
        pass
'''


@pytest.fixture
def their_module(tmp_path, monkeypatch):
    (tmp_path / "their_models.py").write_text(textwrap.dedent(THEIR_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "their_models"
    sys.modules.pop("their_models", None)


def spec(class_path: str, model_name: str = "Qwen2-VL-2B-Instruct", params: dict | None = None,
         system_prompt: str | None = None, weights: str | None = None) -> JobSpec:
    return JobSpec(job_id="j", run_id="r", config_row=1,
                   model=ModelRef(model_name=model_name, framework="hf", class_path=class_path,
                                  weights=weights, params=params or {}),
                   dataset=DatasetRef(name="d", path="/nowhere", fingerprint="f"),
                   prompt=PromptSpec(system_prompt=system_prompt))


def test_the_registry_wraps_their_classes_once(their_module):
    cls = resolve_model_class(f"{their_module}:Classic")
    assert issubclass(cls, VLMHyperBenchModel) and issubclass(cls, VisionLanguageModel)
    assert cls.__name__ == "Classic"
    assert resolve_model_class(f"{their_module}:Classic") is cls
    with pytest.raises(RegistryError, match="model_interface"):
        resolve_model_class(f"{their_module}:NoInterface")


def test_built_as_their_runner_builds_it(their_module, monkeypatch, tmp_path):
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    cls = resolve_model_class(f"{their_module}:Classic")
    model = cls.for_job(spec(f"{their_module}:Classic", params={"device_map": "cpu"},
                             system_prompt="Be brief."))
    assert model.model.built_with == {"model_name": "Qwen2-VL-2B-Instruct", "system_prompt": "Be brief.",
                                      "cache_dir": str(tmp_path / "hf" / "hub"), "device_map": "cpu"}
    model.close()


def test_model_config_form(their_module):
    cls = resolve_model_class(f"{their_module}:Configured")
    model = cls.for_job(spec(f"{their_module}:Configured", params={"model_name": "Qwen2.5-VL-7B-Instruct",
                                                                   "device_map": "auto", "max_pixels": 5,
                                                                   "cache_dir": "/models"}))
    assert model.model.model_config == {
        "common_params": {"model_name": "Qwen2.5-VL-7B-Instruct", "system_prompt": "",
                          "cache_dir": "/models", "device_map": "auto"},
        "specific_params": {"max_pixels": 5}}
    with pytest.raises(TypeError, match="returned NoneType"):
        model.generate([Request(prompt="q", images=[Image.new("RGB", (2, 2))])])
    model.close()


def test_images_reach_them_as_png_files(their_module):
    model = resolve_model_class(f"{their_module}:Classic").for_job(spec(f"{their_module}:Classic"))
    red, blue = Image.new("RGB", (4, 3), (200, 10, 10)), Image.new("RGB", (4, 3), (0, 0, 255))
    answers = model.generate([Request(prompt="colour?", images=[red]),
                              Request(prompt="how many?", images=[red, blue])])
    assert answers == ["(200, 10, 10) colour?", "2"]
    (single, _), (several, question) = model.model.calls
    assert isinstance(single, str) and single.endswith(".png")
    assert isinstance(several, list) and all(isinstance(p, str) for p in several) and question == "how many?"
    assert not any(Path(p).exists() for p in [single, *several])  # one request's files go with it
    model.close()


def test_requests_their_interface_cannot_take(their_module):
    model = resolve_model_class(f"{their_module}:Classic").for_job(spec(f"{their_module}:Classic",
                                                                        system_prompt="S"))
    with pytest.raises(ValueError, match="has none"):
        model.generate([Request(prompt="text only", system_prompt="S")])
    with pytest.raises(ValueError, match="fixes the system prompt"):
        model.generate([Request(prompt="q", images=[Image.new("RGB", (2, 2))], system_prompt="other")])
    only_one = resolve_model_class(f"{their_module}:OnlyOne").for_job(spec(f"{their_module}:OnlyOne"))
    with pytest.raises(ValueError, match="no predict_on_images"):
        only_one.generate([Request(prompt="q", images=[Image.new("RGB", (2, 2))] * 2)])
    model.close()
    only_one.close()


def test_weights_and_a_missing_model_name_are_refused(their_module):
    cls = resolve_model_class(f"{their_module}:Classic")
    with pytest.raises(ModelLoadError, match="takes no weights"):
        cls.for_job(spec(f"{their_module}:Classic", weights="Qwen/Qwen2-VL-2B-Instruct"))
    with pytest.raises(ModelLoadError, match="needs a model_name"):
        adapter_for(cls.wrapped)()
