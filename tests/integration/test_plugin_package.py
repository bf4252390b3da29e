"""A model class from a package vlmbench has never heard of, named only in a catalog row."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.workers]


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    """Build and install (into a separate folder) a real package with an entry point."""
    source = tmp_path_factory.mktemp("plugin-src")
    (source / "acme_vlm").mkdir()
    (source / "acme_vlm" / "__init__.py").write_text("")
    (source / "acme_vlm" / "adapters.py").write_text(textwrap.dedent('''
        from vlmbench.models.base import VisionLanguageModel

        class ShoutingModel(VisionLanguageModel):
            """Answers with the question in capitals, prefixed by a constructor parameter."""
            max_batch_size = 4

            def __init__(self, weights=None, prefix="", **params):
                super().__init__(weights, **params)
                self.prefix = prefix

            def generate(self, requests):
                return [self.prefix + r.prompt.upper() for r in requests]
    '''))
    (source / "pyproject.toml").write_text(textwrap.dedent('''
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "acme-vlm"
        version = "1.0"
        [project.entry-points."vlmbench.models"]
        shouting = "acme_vlm.adapters:ShoutingModel"
        [tool.setuptools]
        packages = ["acme_vlm"]
    '''))
    site = tmp_path_factory.mktemp("plugin-site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(site), str(source)], check=True)
    return site


def _env(site: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))}


def test_entry_point_and_import_path_resolve(plugin_site):
    code = ("from vlmbench.registry import resolve_model_class as r;"
            "a = r('shouting'); b = r('acme_vlm.adapters:ShoutingModel');"
            "print(a is b, a(prefix='> ').generate.__qualname__)")
    out = subprocess.run([sys.executable, "-c", code], env=_env(plugin_site), capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["True", "ShoutingModel.generate"]


def test_run_through_a_catalog_row(plugin_site, tmp_path, text_dataset):
    catalog = tmp_path / "acme.csv"
    catalog.write_text("framework,model_family,model_name,docker_image,python_package,module,class_name,params\n"
                       'acme,Acme,acme-shout,,acme_vlm,adapters,ShoutingModel,"{""prefix"": ""> ""}"\n')
    config = tmp_path / "run.csv"
    config.write_text(f"model_name;dataset;prompt;metrics\nacme-shout;{text_dataset};Q: {{question}};['exact_match']\n")
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "vlmbench", "run", str(config), "--catalog", str(catalog),
                             "--out", str(out)], env=_env(plugin_site), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    (job_dir,) = (out / "jobs").iterdir()
    first = (job_dir / "predictions.jsonl").read_text().splitlines()[0]
    assert '"answer":"> Q: WHAT IS WRITTEN?"' in first
