from pathlib import Path

import pytest

from vlmbench.catalog import Catalog, load_catalog, read_catalog_file
from vlmbench.errors import CatalogError

HEADER = "framework,model_family,model_name,docker_image,python_package,module,class_name,weights,params,tasks\n"


def test_embedded_catalog_loads_and_resolves_class_paths():
    catalog = load_catalog(include_plugins=False)
    row = catalog.get("tesseract-rus-eng")
    assert row.class_path == "vlmbench.models.tesseract:TesseractOCR"
    assert row.params["lang"] == "rus+eng"
    assert row.tasks == ["ocr"]


def test_user_catalog_adds_and_overrides(tmp_path: Path):
    extra = tmp_path / "mine.csv"
    extra.write_text(HEADER + 'tesseract,T,tesseract-eng,img:1,vlmbench,models.tesseract,TesseractOCR,,"{""lang"": ""eng"", ""psm"": ""line""}",ocr\n'
                     "hf,Mine,my-model,,my-pkg,adapters,MyModel,org/my-model,,vqa|ocr\n")
    catalog = load_catalog([extra], include_plugins=False)
    assert catalog.get("tesseract-eng").params["psm"] == "line"
    mine = catalog.get("my-model", "hf")
    assert mine.class_path == "my_pkg.adapters:MyModel"
    assert mine.tasks == ["vqa", "ocr"]


def test_bad_rows_name_row_and_column(tmp_path: Path):
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "hf,F,x,,p,mod,C,,{oops,\nhf,F,m,,p,mod,C,,,\nhf,F,m,,p,mod,C,,,\n")
    with pytest.raises(CatalogError) as caught:
        read_catalog_file(bad)
    lines = caught.value.lines()
    assert any("row 1" in line and "'params'" in line and "JSON" in line for line in lines)
    assert any("row 3" in line and "duplicate" in line and "first at row 2" in line for line in lines)


def test_missing_columns(tmp_path: Path):
    bad = tmp_path / "bad.csv"
    bad.write_text("model_name,framework\nx,y\n")
    with pytest.raises(CatalogError, match="missing column"):
        read_catalog_file(bad)


def test_unknown_model_suggests_close_names():
    catalog = load_catalog(include_plugins=False)
    with pytest.raises(CatalogError, match="did you mean tesseract-eng"):
        catalog.get("tesseract-en")
    with pytest.raises(CatalogError, match="no 'vllm' framework"):
        catalog.get("tesseract-eng", "vllm")


def test_first_listed_framework_is_the_default():
    from vlmbench.catalog import CatalogRow

    rows = [CatalogRow(framework=f, model_name="m", class_name="echo") for f in ("hf", "vllm")]
    assert Catalog(rows).get("m").framework == "hf"


def test_embedded_catalog_covers_the_open_leaderboard_families():
    catalog = load_catalog(include_plugins=False)
    rows = list(catalog)
    assert len(rows) >= 50
    families = {row.model_family for row in rows}
    for family in ("Qwen2-VL", "Qwen2.5-VL", "Qwen3-VL", "InternVL2", "InternVL2.5", "InternVL3", "MiniCPM-V",
                   "LLaVA-1.5", "LLaVA-NeXT", "LLaVA-OneVision", "Idefics3", "SmolVLM", "PaliGemma2",
                   "Phi-3.5-vision", "Phi-4-multimodal", "Gemma3", "Llama-3.2-Vision", "Pixtral", "Molmo",
                   "DeepSeek-VL2", "Florence-2", "GOT-OCR2", "Tesseract"):
        assert family in families, family


def test_every_embedded_row_resolves_to_a_model_class_and_valid_params():
    from vlmbench.models.hf.settings import parse_settings
    from vlmbench.models.packaged import resolve_packaged
    from vlmbench.registry import resolve_model_class

    for row in load_catalog(include_plugins=False):
        cls = resolve_model_class(row.class_path)  # vLLM itself is imported only when a model loads
        assert cls.__name__ == row.class_name
        if row.weights and row.weights.startswith("vlmbench:"):
            assert Path(resolve_packaged(row.weights), "config.json").is_file(), row.model_name
        elif row.framework in ("hf", "vllm", "vllm-server"):
            org, _, name = (row.weights or "").partition("/")
            assert org and name and " " not in row.weights, row.model_name
            assert row.docker_image and row.gpu_memory_gb > 0
        if row.framework == "hf":
            parse_settings(row.params, row.model_name)
