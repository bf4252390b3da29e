"""A model package written in VLMHyperBench's shape, installed and run through their models CSV.

The package follows VLMHyperBenchTeam/model_qwen2.5-vl (0.1.2): `<package>/models.py` holding a
subclass of `model_interface.model_interface.ModelInterface` that registers itself with
`ModelFactory` on import. GitHub cannot be reached from tests, so `model_interface` is a local
stand-in with the same module paths and names; the build backend is setuptools (theirs use
poetry-core or hatchling, which pip would have to download).
"""

import csv
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PIL import Image

pytestmark = [pytest.mark.integration, pytest.mark.transformers, pytest.mark.workers]

INTERFACE = '''
from abc import ABC, abstractmethod
from typing import Any, List


class ModelInterface(ABC):
    def __init__(self, model_name: str, system_prompt: str, cache_dir: str) -> None:
        self.model_name = model_name
        self.system_prompt = system_prompt
        self.cache_dir = cache_dir
        self.framework = ""

    @abstractmethod
    def predict_on_image(self, image: Any, prompt: str) -> str: ...

    @abstractmethod
    def predict_on_images(self, images: List[Any], prompt: str) -> str: ...
'''

FACTORY = '''
import importlib


class ModelFactory:
    _models = {}

    @classmethod
    def register_model(cls, model_name, model_path):
        module_path, class_name = model_path.split(":")
        cls._models[model_name] = getattr(importlib.import_module(module_path), class_name)
'''

MODEL = '''
import os
from typing import Any, List

from PIL import Image
from model_interface.model_interface import ModelInterface

PALETTE = {"red": (255, 0, 0), "green": (0, 128, 0), "blue": (0, 0, 255)}


class ColourModel(ModelInterface):
    """Names the colour at the centre of each image; a system prompt asking for capitals is obeyed."""

    def __init__(self, model_name: str = "Colour-VL-1B", system_prompt: str = "",
                 cache_dir: str = "model_cache") -> None:
        super().__init__(model_name, system_prompt, cache_dir)
        self.framework = "Hugging_Face"
        # Where from_pretrained(..., cache_dir=cache_dir) would put the weights.
        os.makedirs(os.path.join(cache_dir, f"models--colours--{model_name}"), exist_ok=True)

    def _colour(self, image: Any) -> str:
        if not isinstance(image, str):
            raise TypeError(f"expected an image file path, got {type(image).__name__}")
        with Image.open(image) as opened:
            rgb = opened.convert("RGB")
            pixel = rgb.getpixel((rgb.width // 2, rgb.height // 2))
        return min(PALETTE, key=lambda name: sum((a - b) ** 2 for a, b in zip(PALETTE[name], pixel)))

    def _styled(self, answer: str) -> str:
        return answer.upper() if "capital" in self.system_prompt.lower() else answer

    def predict_on_image(self, image: Any, prompt: str) -> str:
        return self._styled(self._colour(image))

    def predict_on_images(self, images: List[Any], prompt: str) -> str:
        return self._styled(", ".join(self._colour(image) for image in images))


from model_interface.model_factory import ModelFactory

ModelFactory.register_model("Colour-VL", "model_colours.models:ColourModel")
'''


def _package(root: Path, name: str, package: str, modules: dict[str, str]) -> Path:
    (root / package).mkdir(parents=True)
    (root / package / "__init__.py").write_text("")
    for module, text in modules.items():
        (root / package / f"{module}.py").write_text(textwrap.dedent(text))
    (root / "pyproject.toml").write_text(textwrap.dedent(f'''
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "{name}"
        version = "0.1.1"
        dependencies = ["model-interface"]
        [tool.setuptools]
        packages = ["{package}"]
    '''))
    return root


@pytest.fixture(scope="module")
def their_site(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("their-src")
    interface = _package(src / "model_interface", "model-interface", "model_interface",
                         {"model_interface": INTERFACE, "model_factory": FACTORY})
    model = _package(src / "model_colours", "model-colours", "model_colours", {"models": MODEL})
    site = tmp_path_factory.mktemp("their-site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
                    str(interface), str(model)], check=True)
    return site


@pytest.fixture
def colours(tmp_path) -> Path:
    root = tmp_path / "colours"
    (root / "images").mkdir(parents=True)
    for name, rgb in {"red": (250, 5, 5), "green": (10, 130, 10), "blue": (0, 0, 240)}.items():
        Image.new("RGB", (24, 16), rgb).save(root / "images" / f"{name}.png")
    what = "What colour is this?"
    lines = [{"id": "r", "images": ["images/red.png"], "question": what, "answer": "RED"},
             {"id": "g", "images": ["images/green.png"], "question": what, "answer": "GREEN"},
             {"id": "rb", "images": ["images/red.png", "images/blue.png"],
              "question": "Which colours, in order?", "answer": "RED, BLUE"}]
    (root / "annotations.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    return root


def test_their_package_runs_through_their_models_csv(their_site, colours, tmp_path):
    # Their models CSV as they write it (VLMHyperBench vlmhyperbench/vlm_base.csv): BOM, ';', CRLF.
    catalog = tmp_path / "vlm_base.csv"
    catalog.write_bytes((
        "\ufeffframework;model_family;model_name;docker_image;git_python_package;python_package;module;"
        "class_name\r\n"
        "Hugging Face;Colour-VL;Colour-VL-1B;;git+https://github.com/example/model_colours.git@0.1.1;"
        "model_colours;models;ColourModel\r\n").encode("utf-8"))
    config = tmp_path / "run.csv"
    config.write_text("model_name;framework;dataset;system_prompt;metrics\n"
                      f"Colour-VL-1B;Hugging Face;{colours};Answer in capital letters.;['exact_match']\n")
    hf_home = tmp_path / "hf"
    env = {**os.environ, "HF_HOME": str(hf_home),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(their_site), os.environ.get("PYTHONPATH")]))}
    env.pop("HF_HUB_CACHE", None)
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "vlmbench", "run", str(config), "--catalog", str(catalog),
                             "--out", str(out)], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr

    (job_dir,) = (out / "jobs").iterdir()
    lines = (job_dir / "predictions.jsonl").read_text().splitlines()
    predictions = {p["id"]: p for p in map(json.loads, lines)}
    assert {key: p["answer"] for key, p in predictions.items()} == {"r": "RED", "g": "GREEN",
                                                                    "rb": "RED, BLUE"}
    assert all(p["error"] is None for p in predictions.values())
    # Built as their runner builds it: the row's model_name, a cache_dir (the Hugging Face hub cache).
    assert (hf_home / "hub" / "models--colours--Colour-VL-1B").is_dir()
    job = json.loads((job_dir / "job.json").read_text())
    assert job["model"]["framework"] == "hf"
    assert job["model"]["class_path"] == "model_colours.models:ColourModel"
    with (out / "results.csv").open(newline="") as handle:
        scores = [row for row in csv.DictReader(handle) if row["metric"] == "exact_match"]
    assert scores and all(float(row["value"]) == 1.0 for row in scores)
