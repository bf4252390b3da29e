import subprocess
import sys

import pytest

from vlmbench.errors import RegistryError
from vlmbench.models.base import VisionLanguageModel
from vlmbench.registry import known_names, register_model, resolve_model_class


def test_builtin_names_resolve_lazily():
    from vlmbench.models.echo import EchoModel

    assert resolve_model_class("echo") is EchoModel
    assert "tesseract" in known_names()


def test_import_path_resolves_and_is_checked():
    cls = resolve_model_class("vlmbench.models.echo:EchoModel")
    assert issubclass(cls, VisionLanguageModel)
    with pytest.raises(RegistryError, match="not a vlmbench model class"):
        resolve_model_class("pathlib:Path")
    with pytest.raises(RegistryError, match="has no class 'Nope'"):
        resolve_model_class("vlmbench.models.echo:Nope")
    with pytest.raises(RegistryError, match="pip install my-adapters"):
        resolve_model_class("no_such_package.models:Model", install_hint="my-adapters")


def test_unknown_name_lists_close_matches():
    with pytest.raises(RegistryError, match="did you mean tesseract"):
        resolve_model_class("tesserakt")


def test_decorator_registers_and_rejects_non_models():
    @register_model("unit-test-model", "utm")
    class UnitTestModel(VisionLanguageModel):
        def generate(self, requests):
            return ["ok" for _ in requests]

    assert resolve_model_class("utm") is UnitTestModel
    with pytest.raises(TypeError):
        register_model("bad")(object)


def test_importing_vlmbench_and_its_cli_never_imports_torch():
    code = ("import sys, vlmbench.registry, vlmbench.cli.app, vlmbench.runner, vlmbench.metrics;"
            "heavy = [m for m in ('torch', 'transformers', 'tesserocr', 'docker') if m in sys.modules];"
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
