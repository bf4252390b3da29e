"""Hostile input: whatever a user hands in ends in exit 0 or 2 with a message, in bounded time.

Property-based (hypothesis) runs of `vlmbench validate` over generated run
CSVs, catalogs, annotation files and environment variables, then the
special cases a generator rarely finds: FIFOs and devices named as files,
decompression bombs, paths that leave the dataset, a broken plugin.
"""

from __future__ import annotations

import json
import os
import signal
import string
import struct
import subprocess
import sys
import time
import warnings
import zlib
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from typer.testing import CliRunner

from vlmbench.cli.app import app
from vlmbench.config import RunRow

runner = CliRunner()
SECONDS = 20  # any one command; the worst case found takes well under one
FUZZ = settings(max_examples=25, deadline=5000, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
CATALOG_HEADER = "framework,model_family,model_name,docker_image,python_package,module,class_name"


@contextmanager
def time_limit(seconds: float = SECONDS):
    """A hang fails the test (SIGALRM in this thread) instead of stalling the suite."""
    def expire(*_):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def invoke(*args, env: dict[str, str] | None = None):
    started = time.monotonic()
    with time_limit():
        result = runner.invoke(app, [str(a) for a in args], env=env)
    elapsed = time.monotonic() - started
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"crashed: {result.exception!r}\n{result.output[-2000:]}")
    assert result.exit_code in (0, 2), result.output[-2000:]
    assert "Traceback" not in result.output
    assert elapsed < SECONDS
    return result


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """A dataset of two images, a catalog with an echo model, and a run CSV that validates."""
    root = tmp_path_factory.mktemp("fuzz")
    dataset = root / "ds"
    (dataset / "img").mkdir(parents=True)
    for index in range(2):
        Image.new("RGB", (16, 16), "white").save(dataset / "img" / f"{index}.png")
    (dataset / "annotation.csv").write_text(
        "data_index;image_path;question;answer\n0;img/0.png;q0;a0\n1;img/1.png;q1;a1\n")
    (root / "catalog.csv").write_text(f"{CATALOG_HEADER}\necho,Echo,echo-test,,,,echo\n")
    (root / "run.csv").write_text(f"model_name,dataset\necho-test,{dataset}\n")
    return root


def validate(work: Path, config: Path | None = None, *more, env=None):
    return invoke("validate", config or work / "run.csv", "--catalog", work / "catalog.csv",
                  "--out", work / "out", *more, env=env)


def test_the_fixture_validates(work):
    assert validate(work).exit_code == 0


# Cells a spreadsheet, a careless script or an attacker might write.
HOSTILE_CELLS = st.one_of(
    st.text(max_size=40),
    st.sampled_from([
        "", " ", "\x00", "a\x00b", "\ufeff", '"', '""', "'", "\n", "\r", "\r\n", ";", ",", "\t", "|",
        "x" * 100_000, "x" * 200_000, "é" * 70_000, "[" * 5000, "[" * 150 + "]" * 150, '{"a":' * 2000,
        '{"a":' * 40 + "1" + "}" * 40, "[" * 40 + "]" * 40, "9" * 5000, "-1", "0", "nan", "inf", "1e999",
        "true", "{question}", "{}", "[]", "['a', 'b']", '{"api_key": "k"}', "../" * 50 + "etc/passwd",
        "/dev/zero", "/dev/stdin", "~nosuchuser/x", "a" * 5000, "a/" * 3000, "x.txt", "a" * 300 + ".csv",
        "$(touch /tmp/vlmbench-pwned)", "`touch /tmp/vlmbench-pwned`", "; rm -rf /",
    ]),
)
RUN_COLUMNS = sorted(set(RunRow.model_fields) - {"row"})


def _csv_cell(cell: str, delimiter: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if any(c in cell for c in f'"\n\r{delimiter}') else cell


@st.composite
def run_csvs(draw) -> bytes:
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    columns = ["model_name", "dataset", *draw(st.lists(st.sampled_from(RUN_COLUMNS), max_size=4, unique=True))]
    columns = list(dict.fromkeys(columns))
    if draw(st.booleans()):
        columns += draw(st.lists(st.text(string.ascii_letters, min_size=1, max_size=8), max_size=3))
    if draw(st.integers(0, 9)) == 0:
        columns += [f"extra{i}" for i in range(3000)]  # thousands of columns
    rows = []
    for _ in range(draw(st.integers(0, 3))):
        cells = [draw(st.sampled_from(["echo-test", "echo", ""])), draw(st.sampled_from(["DS", "easy-vqa", ""]))]
        cells += [draw(HOSTILE_CELLS) for _ in columns[2:20]]
        rows.append(cells)
    quote = draw(st.booleans())
    lines = [delimiter.join(columns)]
    lines += [delimiter.join(_csv_cell(c, delimiter) if quote else c for c in row) for row in rows]
    text = "\n".join(lines) + draw(st.sampled_from(["\n", "", "\r\n", "\n\n\n"]))
    return draw(st.sampled_from([b"", b"\xef\xbb\xbf"])) + text.encode("utf-8", "surrogatepass")


@FUZZ
@given(data=st.one_of(st.binary(max_size=3000), st.text(max_size=500).map(lambda t: t.encode("utf-8", "replace")),
                      run_csvs()))
def test_any_run_csv_is_exit_0_or_2(work, data):
    config = work / "fuzz-run.csv"
    config.write_bytes(data.replace(b"DS", str(work / "ds").encode()))
    validate(work, config)


@FUZZ
@given(data=run_csvs())
def test_dry_run_of_any_run_csv_is_exit_0_or_2(work, data):
    config = work / "fuzz-dry.csv"
    config.write_bytes(data.replace(b"DS", str(work / "ds").encode()))
    invoke("run", config, "--catalog", work / "catalog.csv", "--out", work / "out-dry", "--dry-run")


@FUZZ
@given(header=st.sampled_from([CATALOG_HEADER, CATALOG_HEADER + ",weights,params,tasks,gpu_memory_gb",
                               CATALOG_HEADER.replace("class_name", "ClassName"), "framework;model_name"]),
       cells=st.lists(HOSTILE_CELLS, min_size=1, max_size=11), rows=st.integers(1, 3),
       garbage=st.binary(max_size=200))
def test_any_catalog_is_exit_0_or_2(work, header, cells, rows, garbage):
    width = header.count(",") + 1
    line = ",".join(_csv_cell(c, ",") for c in (cells * width)[:width])
    catalog = work / "fuzz-catalog.csv"
    catalog.write_bytes((header + "\n" + (line + "\n") * rows).encode("utf-8", "surrogatepass") + garbage)
    invoke("validate", work / "run.csv", "--catalog", catalog, "--out", work / "out")
    invoke("list-models", "--catalog", catalog)


@st.composite
def annotations(draw) -> tuple[str, bytes]:
    if draw(st.booleans()):
        header = draw(st.sampled_from(["data_index;image_path;question;answer",
                                       "id,image_path,question,answer,choices,doc_class",
                                       "question\tanswer\timage_path", "image_path;question;question;answer"]))
        delimiter = ";" if ";" in header else "," if "," in header else "\t"
        width = header.count(delimiter) + 1
        lines = [header]
        for index in range(draw(st.integers(0, 3))):
            cells = [draw(st.sampled_from([str(index), "img/0.png", "['img/0.png', 'img/1.png']"]))]
            cells += [draw(HOSTILE_CELLS) for _ in range(width - 1)]
            lines.append(delimiter.join(_csv_cell(c, delimiter) for c in cells))
        return "annotation.csv", "\n".join(lines).encode("utf-8", "surrogatepass")
    values = st.one_of(HOSTILE_CELLS, st.integers(), st.none(), st.lists(HOSTILE_CELLS, max_size=3),
                       st.just(["img/0.png"]), st.just("/etc/passwd"), st.just(["../../etc/passwd"]))
    lines = []
    for _ in range(draw(st.integers(0, 3))):
        obj = draw(st.dictionaries(st.sampled_from(["id", "question", "answer", "images", "image", "choices",
                                                    "metadata", "doc_class", "split"]), values, max_size=7))
        lines.append(json.dumps(obj) if draw(st.integers(0, 4)) else draw(HOSTILE_CELLS))
    return "annotations.jsonl", "\n".join(lines).encode("utf-8", "surrogatepass")


@FUZZ
@given(annotation=annotations())
def test_any_annotation_file_is_exit_0_or_2(work, annotation):
    dataset = work / "fuzz-ds"
    (dataset / "img").mkdir(parents=True, exist_ok=True)
    for name in ("annotation.csv", "annotations.jsonl"):
        (dataset / name).unlink(missing_ok=True)
    for index in range(2):
        if not (dataset / "img" / f"{index}.png").exists():
            Image.new("RGB", (8, 8)).save(dataset / "img" / f"{index}.png")
    name, data = annotation
    (dataset / name).write_bytes(data)
    config = work / "fuzz-ann.csv"
    config.write_text(f"model_name,dataset\necho-test,{dataset}\n")
    validate(work, config)


ENV_NAMES = ["VLMBENCH_DATA_ROOT", "VLMBENCH_DATA_DIR", "VLMBENCH_JOB_TIMEOUT_S", "VLMBENCH_IMAGE",
             "VLMBENCH_API_BASE", "VLMBENCH_DOCKER_ENV", "VLMBENCH_DOCKER_MEMORY", "VLMBENCH_DOCKER_NETWORK",
             "VLMBENCH_SLURM_ARGS", "VLMBENCH_SLURM_MAX_QUEUED", "VLMBENCH_SLURM_PARTITION",
             "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HOME", "HF_HUB_CACHE", "XDG_CACHE_HOME",
             "TESSDATA_PREFIX", "COLUMNS"]
ENV_VALUES = st.one_of(st.text(st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"]),
                               max_size=30),
                       st.sampled_from(["abc", "-1", "0", "nan", "inf", "1e999", "9" * 5000, "a" * 5000, "a/" * 3000,
                                        "~nosuchuser/x", "/dev/zero", "'unclosed", "1", "true", "yes"]))


@FUZZ
@given(env=st.dictionaries(st.sampled_from(ENV_NAMES), ENV_VALUES, min_size=1, max_size=4),
       executor=st.sampled_from(["local", "local", "slurm-construct", "docker-construct"]))
def test_any_environment_is_exit_0_or_2(work, env, executor):
    if executor == "local":
        validate(work, env=env)
        return
    from vlmbench.errors import VlmbenchError
    from vlmbench.executors import get_executor

    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        try:
            get_executor(executor.split("-")[0])
            if "VLMBENCH_SLURM_ARGS" in env:
                from vlmbench.config import env_words

                env_words("VLMBENCH_SLURM_ARGS")
        except VlmbenchError as exc:
            assert len(exc.lines()) == 1 and "$VLMBENCH_" in exc.lines()[0]


# ---- files that are not files: FIFOs and devices never block or grow a read ----

@pytest.fixture
def fifo(tmp_path) -> Path:
    path = tmp_path / "pipe.csv"
    os.mkfifo(path)
    return path


def _one_error_line(result) -> str:
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert result.exit_code == 2 and lines, result.output
    return "\n".join(lines)


@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
def test_a_fifo_or_device_as_run_csv_or_catalog_is_refused(work, fifo, special):
    path = fifo if special == "fifo" else Path(special)
    assert "not a regular file" in _one_error_line(invoke("validate", path, "--catalog", work / "catalog.csv"))
    assert "not a regular file" in _one_error_line(invoke("validate", work / "run.csv", "--catalog", path))
    assert "not a regular file" in _one_error_line(invoke("list-models", "--catalog", path))


@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
def test_a_fifo_or_device_as_prompt_collection_or_system_prompt_is_refused(work, tmp_path, fifo, special):
    path = fifo if special == "fifo" else Path(special)
    (tmp_path / "prompt.txt").symlink_to(path)
    config = tmp_path / "run.csv"
    config.write_text(f"model_name,dataset,prompt_collection\necho-test,{work / 'ds'},{path}\n")
    assert "not found" in _one_error_line(validate(work, config))  # looked for as a regular file only
    config.write_text(f"model_name,dataset,system_prompt\necho-test,{work / 'ds'},prompt.txt\n")
    assert "not found" in _one_error_line(validate(work, config))


@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
def test_a_fifo_or_device_as_annotation_or_image_is_refused(work, tmp_path, special):
    dataset = tmp_path / "ds"
    dataset.mkdir()

    def make(path: Path) -> None:
        os.mkfifo(path) if special == "fifo" else path.symlink_to(special)

    make(dataset / "annotation.csv")
    config = tmp_path / "run.csv"
    config.write_text(f"model_name,dataset\necho-test,{dataset}\n")
    line = _one_error_line(validate(work, config))
    assert "not a regular file" in line or "outside the dataset folder" in line, line
    (dataset / "annotation.csv").unlink()
    (dataset / "annotation.csv").write_text("image_path;question;answer\nimg.png;q;a\n")
    make(dataset / "img.png")
    line = _one_error_line(validate(work, config))
    assert "not a regular file" in line or "outside the dataset folder" in line, line


def test_load_image_refuses_a_fifo_at_once(tmp_path):
    from vlmbench.datasets import load_image
    from vlmbench.errors import DatasetError

    os.mkfifo(tmp_path / "late.png")  # a FIFO swapped in after the check
    with time_limit(5), pytest.raises(DatasetError, match="FIFO"):
        load_image(tmp_path, "late.png")


# ---- images that fail their sample only ----

def _png_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b""))


def test_bombs_and_broken_images_fail_their_sample_in_bounded_memory(tmp_path):
    """A header claiming 100k x 100k pixels, a truncated PNG, an empty file, text named .png."""
    import resource

    from vlmbench.datasets import load_image

    good = tmp_path / "good.png"
    Image.new("RGB", (64, 64), "white").save(good)
    (tmp_path / "bomb.png").write_bytes(_png_claiming(100_000, 100_000))
    (tmp_path / "medium-bomb.png").write_bytes(_png_claiming(12_000, 12_000))  # over MAX_IMAGE_PIXELS only
    (tmp_path / "truncated.png").write_bytes(good.read_bytes()[:60])
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.png").write_text("not an image")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for name in ("bomb.png", "medium-bomb.png", "truncated.png", "empty.png", "text.png"):
        with warnings.catch_warnings(), pytest.raises(Exception) as caught:  # that sample's error, any kind
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            load_image(tmp_path, name)
        assert not isinstance(caught.value, MemoryError)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB: nothing decoded
    assert load_image(tmp_path, "good.png").size == (64, 64)


@pytest.mark.integration
@pytest.mark.workers
def test_a_run_with_broken_images_answers_the_others(work, tmp_path):
    dataset = tmp_path / "ds"
    dataset.mkdir()
    Image.new("RGB", (32, 32), "white").save(dataset / "good.png")
    (dataset / "bomb.png").write_bytes(_png_claiming(100_000, 100_000))
    (dataset / "truncated.png").write_bytes((dataset / "good.png").read_bytes()[:60])
    (dataset / "empty.png").write_bytes(b"")
    (dataset / "text.png").write_text("not an image")
    names = ["good.png", "bomb.png", "truncated.png", "empty.png", "text.png", "good.png"]
    (dataset / "annotation.csv").write_text("data_index;image_path;question;answer\n" + "".join(
        f"{i};{name};q;a\n" for i, name in enumerate(names)))
    config = tmp_path / "run.csv"
    config.write_text(f"model_name,dataset\necho-test,{dataset}\n")
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(config), "--catalog", str(work / "catalog.csv"), "--out", str(out),
                                 "--max-error-rate", "1"])
    assert result.exit_code == 0, result.output
    (job_dir,) = (out / "jobs").iterdir()
    records = [json.loads(line) for line in (job_dir / "predictions.jsonl").read_text().splitlines()]
    errors = {r["id"]: r.get("error") for r in records}
    assert len(records) == 6
    assert not errors["0"] and not errors["5"]
    assert all(errors[str(i)] for i in (1, 2, 3, 4)), errors
    assert "decompression bomb" in errors["1"]


# ---- paths that leave the dataset ----

@pytest.mark.parametrize("raw", ["../outside.png", "/etc/hostname", "link-out.png", "linkdir/outside.png",
                                 "img/../../outside.png", "loop.png", "a\x00b.png", "x" * 5000])
def test_image_paths_leaving_the_dataset_are_refused(work, tmp_path, raw):
    dataset = tmp_path / "ds"
    dataset.mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "outside.png")
    (dataset / "link-out.png").symlink_to(tmp_path / "outside.png")
    (dataset / "linkdir").symlink_to(tmp_path)
    (dataset / "loop.png").symlink_to(dataset / "loop.png")
    (dataset / "annotations.jsonl").write_text(json.dumps({"question": "q", "answer": "a", "images": [raw]}) + "\n")
    config = tmp_path / "run.csv"
    config.write_text(f"model_name,dataset\necho-test,{dataset}\n")
    line = _one_error_line(validate(work, config))
    assert "annotations.jsonl, row 1, column 'images'" in line
    assert any(word in line for word in ("outside", "absolute", "cannot be used")), line


def test_an_annotation_file_linking_outside_the_dataset_is_refused(work, tmp_path):
    dataset = tmp_path / "ds"
    dataset.mkdir()
    (tmp_path / "elsewhere.csv").write_text("question;answer\nq;a\n")
    (dataset / "annotation.csv").symlink_to(tmp_path / "elsewhere.csv")
    config = tmp_path / "run.csv"
    config.write_text(f"model_name,dataset\necho-test,{dataset}\n")
    assert "outside the dataset folder" in _one_error_line(validate(work, config))


# ---- bounded time: big inputs are linear ----

def test_many_rows_naming_one_dataset_read_it_once_and_quickly(work, tmp_path, monkeypatch):
    from vlmbench.datasets import loader

    scans = []
    real_scan = loader.scan_files
    monkeypatch.setattr(loader, "scan_files", lambda root: scans.append(root) or real_scan(root))
    config = tmp_path / "run.csv"
    config.write_text("model_name,dataset,limit\n" + "".join(f"echo-test,{work / 'ds'},{i % 2 + 1}\n"
                                                             for i in range(1000)))
    started = time.monotonic()
    assert validate(work, config).exit_code == 0
    assert time.monotonic() - started < 15
    assert len(scans) <= 2  # once to check the run, once to plan it


def test_thousands_of_bad_rows_or_columns_stop_at_twenty_lines(work, tmp_path):
    config = tmp_path / "run.csv"
    config.write_text("model_name,dataset,batch_size\n" + "m,d,zero\n" * 5000)
    assert len(_one_error_line(validate(work, config)).splitlines()) <= 21
    config.write_text(",".join(["model_name", "dataset", *(f"c{i}" for i in range(20_000))]) + "\nm,d\n")
    assert len(_one_error_line(validate(work, config)).splitlines()) <= 22


# ---- a broken plugin is one warning; everything else works ----

@pytest.fixture(scope="module")
def broken_plugin_site(tmp_path_factory) -> Path:
    """An installed distribution whose catalog and model entry points point at a module that fails to import."""
    site = tmp_path_factory.mktemp("broken-site")
    (site / "broken_vlm.py").write_text("raise ImportError('this plugin is broken on purpose')\n")
    dist = site / "broken_vlm-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-vlm\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[vlmbench.catalogs]\nbroken = broken_vlm:CATALOG\n\n[vlmbench.models]\nbroken-model = broken_vlm:Model\n")
    return site


@pytest.mark.integration
@pytest.mark.workers
def test_a_broken_plugin_is_one_warning_and_the_rest_works(work, broken_plugin_site, tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(broken_plugin_site),
                                                                     os.environ.get("PYTHONPATH")]))}

    def vlmbench(*args: object) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "vlmbench", *map(str, args)], env=env, capture_output=True,
                              text=True, timeout=120, cwd=tmp_path, check=False)

    listed = vlmbench("list-models", "--catalog", work / "catalog.csv")
    assert listed.returncode == 0, listed.stderr
    assert "echo-test" in listed.stdout
    warnings = [line for line in listed.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "broken" in warnings[0] and "vlmbench.catalogs" in warnings[0], listed.stderr
    assert "Traceback" not in listed.stderr
    checked = vlmbench("validate", work / "run.csv", "--catalog", work / "catalog.csv", "--out", tmp_path / "o")
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr.count("warning:") == 1
    ran = vlmbench("run", work / "run.csv", "--catalog", work / "catalog.csv", "--out", tmp_path / "o")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "Traceback" not in ran.stderr
    # The broken model itself, named: one line, exit 2.
    catalog = tmp_path / "broken.csv"
    catalog.write_text(f"{CATALOG_HEADER}\nbroken,B,broken-one,,,,broken-model\n")
    config = tmp_path / "broken-run.csv"
    config.write_text(f"model_name,dataset\nbroken-one,{work / 'ds'}\n")
    named = vlmbench("run", config, "--catalog", catalog, "--out", tmp_path / "o2")
    assert "Traceback" not in named.stderr


def test_a_broken_model_entry_point_is_a_registry_error(broken_plugin_site, monkeypatch):
    from vlmbench.errors import RegistryError
    from vlmbench.registry import module_is_importable, resolve_model_class

    monkeypatch.syspath_prepend(str(broken_plugin_site))
    assert not module_is_importable("broken_vlm.models:Model")  # finding it imports broken_vlm
    with pytest.raises(RegistryError, match="fails to import"):
        resolve_model_class("broken-model")
    with pytest.raises(RegistryError, match="fails to import"):
        resolve_model_class("broken_vlm:Model")


# ---- nothing from a cell reaches a shell ----

def test_shell_syntax_in_cells_runs_nothing(work, tmp_path):
    marker = tmp_path / "pwned"
    for cell in (f"$(touch {marker})", f"`touch {marker}`", f"x; touch {marker}", f"x && touch {marker}"):
        config = tmp_path / "run.csv"
        config.write_text("model_name,dataset,docker_image,prompt_collection,system_prompt,gpus\n"
                          f'"{cell}","{cell}","{cell}","{cell}","{cell}.txt","{cell}"\n')
        validate(work, config)
    assert not marker.exists()
