"""Shared fixtures: an isolated data home and small real dataset folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

#: The real components a test may start; an integration test names each one it starts.
COMPONENTS = frozenset({"tesseract", "transformers", "workers", "docker", "slurm"})
TESTS = Path(__file__).parent


def _marking_problem(item: pytest.Item) -> str | None:
    """What is wrong with how a test is marked: unit tests start nothing, the others say what they start."""
    names = {mark.name for mark in item.iter_markers()}
    starts = names & COMPONENTS
    folder = Path(str(item.path)).relative_to(TESTS).parts[0]
    if folder in ("integration", "docker", "slurm") and "integration" not in names:
        return f"a test in tests/{folder} is not marked integration"
    if folder in ("docker", "slurm") and folder not in names:
        return f"a test in tests/{folder} is not marked {folder}"
    if "integration" in names and not starts:
        return f"an integration test names none of the components it starts ({', '.join(sorted(COMPONENTS))})"
    if starts and "integration" not in names:
        return f"a test that starts {', '.join(sorted(starts))} is not marked integration"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    problems = [f"{item.nodeid}: {problem}" for item in items if (problem := _marking_problem(item))]
    if problems:
        raise pytest.UsageError("tests marked inconsistently:\n" + "\n".join(problems))


@pytest.fixture(scope="session", autouse=True)
def data_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Bundled datasets are made once per test session, never in the user's cache."""
    home = tmp_path_factory.mktemp("vlmbench-data")
    os.environ["VLMBENCH_DATA_DIR"] = str(home)
    return home


def _font(size: int = 32) -> ImageFont.FreeTypeFont:
    import matplotlib

    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSans.ttf"), size)


def render_text(text: str, path: Path) -> None:
    image = Image.new("L", (40 + 22 * len(text), 80), 255)
    ImageDraw.Draw(image).text((20, 20), text, font=_font(), fill=0)
    image.save(path)


def make_text_dataset(root: Path, words: list[str], corrupt: set[int] = frozenset()) -> Path:
    """A VLMHyperBench folder: one rendered word per image, the word as the answer."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    lines = ["data_index;split;image_path;question;answer;doc_class;question_type"]
    for index, word in enumerate(words):
        path = root / "images" / f"{index}.png"
        if index in corrupt:
            path.write_bytes(b"this is not a png")
        else:
            render_text(word, path)
        doc_class = "even" if index % 2 == 0 else "odd"
        lines.append(f"s{index};test;images/{index}.png;What is written?;{word};{doc_class};full_text")
    (root / "annotation.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


WORDS = ["invoice", "total", "receipt", "passport", "amount", "number", "date", "seller", "buyer", "price",
         "quantity", "address"]


def write_echo_catalog(path: Path, **params: object) -> Path:
    """An extra catalog of one row: the echo model as `echo-test`, with ``params`` (say answer="total")."""
    import json

    cell = '"' + json.dumps(params).replace('"', '""') + '"' if params else ""
    path.write_text("framework,model_family,model_name,docker_image,python_package,module,class_name,params\n"
                    f"echo,Echo,echo-test,,,,echo,{cell}\n", encoding="utf-8")
    return path


@pytest.fixture
def text_dataset(tmp_path: Path) -> Path:
    return make_text_dataset(tmp_path / "words", WORDS)


def write_run_record(run_dir: Path, run_id: str, executor: str = "local") -> None:
    """A run.json as `vlmbench run` writes it before its jobs start (no jobs planned yet)."""
    import platform
    import sys

    from vlmbench.rundir import RunDir
    from vlmbench.rundir.records import HostInfo, RunRecord, now_iso

    RunDir(run_dir).write_record(RunRecord(
        run_id=run_id, created_at=now_iso(), config=str(run_dir / "run.csv"), executor=executor, vlmbench="test",
        host=HostInfo(python=sys.version.split()[0], platform=platform.platform(), node=platform.node()), jobs=[]))
