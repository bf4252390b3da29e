"""Bundled datasets: where they live, making them once, and resolving a run CSV's dataset value."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest

from vlmbench.datasets import BUNDLED, data_home, load_dataset, make_bundled, resolve_dataset
from vlmbench.errors import DatasetError


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "data-home"
    monkeypatch.setenv("VLMBENCH_DATA_DIR", str(home))
    # One document per class keeps each make well under a second.
    for name in ("synthetic-docs-ru", "synthetic-docs-en"):
        small = dataclasses.replace(BUNDLED[name], options={**BUNDLED[name].options, "docs_per_class": 1})
        monkeypatch.setitem(BUNDLED, name, small)
    return home


def test_data_home_follows_the_environment(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert data_home() == data_dir
    monkeypatch.delenv("VLMBENCH_DATA_DIR")
    monkeypatch.setenv("HOME", "/home/someone")
    assert data_home() == Path("/home/someone/.cache/vlmbench/datasets")


def test_the_four_bundled_sets_are_known() -> None:
    assert list(BUNDLED) == ["synthetic-docs-ru", "synthetic-docs-en", "easy-vqa", "easy-vqa-train"]
    assert all(b.description for b in BUNDLED.values())


def test_existing_folder_wins_relative_to_base_then_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = tmp_path / "config"
    (base / "mine").mkdir(parents=True)
    assert resolve_dataset("mine", base_dir=base) == (base / "mine").resolve()

    work = tmp_path / "work"
    (work / "other").mkdir(parents=True)
    monkeypatch.chdir(work)
    assert resolve_dataset("other", base_dir=base) == (work / "other").resolve()
    assert resolve_dataset(str(work / "other")) == (work / "other").resolve()

    # A user's folder named like a bundled set is theirs, not ours.
    (work / "easy-vqa").mkdir()
    assert resolve_dataset("easy-vqa") == (work / "easy-vqa").resolve()


def test_bundled_name_is_made_on_first_use(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    # Checking a run only says where the set will be; nothing is made yet.
    assert resolve_dataset("synthetic-docs-en", make=False) == data_dir / "synthetic-docs-en"
    assert not (data_dir / "synthetic-docs-en").exists()

    path = resolve_dataset("synthetic-docs-en")
    assert path == data_dir / "synthetic-docs-en"
    assert len(load_dataset(path).samples) > 3
    assert [p.name for p in data_dir.iterdir()] == ["synthetic-docs-en"]  # no temporary folder left
    stamp = (path / "annotation.csv").stat().st_mtime_ns
    assert resolve_dataset("synthetic-docs-en", make=False) == path
    assert (path / "annotation.csv").stat().st_mtime_ns == stamp  # not made twice


def test_unknown_name_lists_bundled_sets_and_close_matches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatasetError) as error:
        resolve_dataset("synthetic-doc-ru")
    text = str(error.value)
    assert "neither a dataset folder nor a bundled dataset" in text
    assert "did you mean synthetic-docs-ru" in text
    assert "easy-vqa-train" in text  # the full list too

    with pytest.raises(DatasetError, match="dataset folder not found: ./data/missing"):
        resolve_dataset("./data/missing", base_dir=tmp_path)
    with pytest.raises(DatasetError, match="empty dataset name"):
        resolve_dataset("  ")


def test_force_remakes_and_a_failed_make_leaves_nothing(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_bundled("synthetic-docs-ru")
    (path / "stale.txt").write_text("left by an old version")
    assert make_bundled("synthetic-docs-ru") == path and (path / "stale.txt").exists()
    assert make_bundled("synthetic-docs-ru", force=True) == path
    assert not (path / "stale.txt").exists()

    def boom(done: int, total: int) -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        make_bundled("synthetic-docs-en", progress=boom)
    assert [p.name for p in data_dir.iterdir()] == ["synthetic-docs-ru"]


def test_two_makers_racing_end_with_one_complete_copy(data_dir: Path) -> None:
    both_built = threading.Barrier(2)
    results: list[Path] = []
    errors: list[BaseException] = []

    def maker() -> None:
        try:
            # Both finish building before either renames, so one rename must lose.
            results.append(
                make_bundled("synthetic-docs-en", progress=lambda d, t: d == t and both_built.wait())
            )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=maker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert results == [data_dir / "synthetic-docs-en"] * 2
    assert [p.name for p in data_dir.iterdir()] == ["synthetic-docs-en"]
    assert len(load_dataset(results[0]).samples) > 3


def test_make_unknown_name_suggests(data_dir: Path) -> None:
    with pytest.raises(DatasetError, match="did you mean easy-vqa"):
        make_bundled("easyvqa")


def test_easy_vqa_is_bundled(data_dir: Path) -> None:
    import easy_vqa  # noqa: F401
    path = make_bundled("easy-vqa")
    samples = load_dataset(path).samples
    assert len(samples) > 9000 and all(s.split == "test" for s in samples[:100])
