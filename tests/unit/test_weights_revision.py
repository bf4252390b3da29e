"""vlmbench.weights_revision: the weights a worker loaded, by hub commit and by a documented content hash."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

import pytest

from vlmbench.weights_revision import (
    END_BYTES,
    HASH_METHOD,
    SMALL_FILE_BYTES,
    folder_hash,
    hub_snapshot,
    loaded_folder,
    loaded_weights,
    weights_revision,
)

COMMIT = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"


def recipe_hash(folder: Path) -> str:
    """The module docstring's recipe, written again from the text alone (rglob, not os.walk)."""
    files = sorted((p.relative_to(folder).as_posix(), p) for p in folder.rglob("*")
                   if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    lines = []
    for relative, path in files:
        data = path.read_bytes()
        sampled = data if len(data) <= 2**20 else data[:2**19] + data[-2**19:]
        lines.append(f"{relative}\t{len(data)}\t{hashlib.sha256(sampled).hexdigest()}\n")
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


def checkpoint(folder: Path, shard_bytes: int = 3 * 2**20) -> Path:
    """A folder laid out as a checkpoint: small configs and a shard past the whole-file limit."""
    (folder / "sub").mkdir(parents=True)
    (folder / "config.json").write_text('{"model_type": "llava", "hidden_size": 64}')
    (folder / "tokenizer_config.json").write_text('{"chat_template": "{{ messages }}"}')
    (folder / "sub" / "preprocessor_config.json").write_text('{"size": 384}')
    (folder / "model.safetensors").write_bytes(bytes(range(256)) * (shard_bytes // 256))
    return folder


def flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def test_the_hash_is_the_documented_recipe(tmp_path):
    folder = checkpoint(tmp_path / "ckpt")
    assert SMALL_FILE_BYTES == 2**20 and END_BYTES == 2**19  # the sizes the docstring gives
    content_hash, n_files, total = folder_hash(folder)
    assert content_hash == recipe_hash(folder)
    assert n_files == 4
    assert total == sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def test_a_copy_elsewhere_or_a_touch_keeps_the_hash_and_bookkeeping_files_are_left_out(tmp_path):
    folder = checkpoint(tmp_path / "ckpt")
    before = folder_hash(folder)
    copy = Path(shutil.copytree(folder, tmp_path / "elsewhere" / "copy"))
    os.utime(copy / "config.json", (time.time() + 100, time.time() + 100))
    (copy / ".cache" / "huggingface").mkdir(parents=True)
    (copy / ".cache" / "huggingface" / "download.lock").write_text("x")
    (copy / ".gitattributes").write_text("*.safetensors filter=lfs")
    assert folder_hash(copy) == before


@pytest.mark.parametrize("change", ["config byte", "shard head", "shard tail", "renamed", "added", "shard size"])
def test_a_change_that_identifies_another_checkpoint_changes_the_hash(tmp_path, change):
    folder = checkpoint(tmp_path / "ckpt")
    before, _, _ = folder_hash(folder)
    shard = folder / "model.safetensors"
    if change == "config byte":
        (folder / "config.json").write_text('{"model_type": "llava", "hidden_size": 65}')
    elif change == "shard head":
        flip(shard, 100)
    elif change == "shard tail":
        flip(shard, shard.stat().st_size - 1)
    elif change == "renamed":
        (folder / "sub" / "preprocessor_config.json").rename(folder / "sub" / "processor_config.json")
    elif change == "added":
        (folder / "chat_template.jinja").write_text("{{ messages }}")
    else:
        with shard.open("ab") as handle:
            handle.write(b"\0")
    after, _, _ = folder_hash(folder)
    assert after != before and after == recipe_hash(folder)


def test_the_middle_of_a_large_shard_is_not_read_as_documented(tmp_path):
    folder = checkpoint(tmp_path / "ckpt")
    before, _, _ = folder_hash(folder)
    flip(folder / "model.safetensors", (3 * 2**20) // 2)
    assert folder_hash(folder)[0] == before  # what sha256sum over the files is for; the docstring says so


def hub_cache(root: Path, source: Path, repo: str = "tiny-org/tiny-model") -> Path:
    """A Hugging Face cache holding ``source`` as it lays out a download: blobs, links to them, refs/main."""
    owner, name = repo.split("/")
    base = root / f"models--{owner}--{name}"
    snapshot = base / "snapshots" / COMMIT
    for path in sorted(source.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            blob = base / "blobs" / hashlib.sha256(data).hexdigest()
            blob.parent.mkdir(parents=True, exist_ok=True)
            blob.write_bytes(data)
            link = snapshot / path.relative_to(source)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(os.path.relpath(blob, link.parent))
    (base / "refs").mkdir()
    (base / "refs" / "main").write_text(COMMIT)
    return snapshot


def test_a_snapshot_of_the_hub_cache_gives_its_repo_and_commit_and_the_hash_of_the_files_its_links_reach(
        tmp_path, monkeypatch):
    from huggingface_hub import constants, snapshot_download

    folder = checkpoint(tmp_path / "ckpt")
    snapshot = hub_cache(tmp_path / "hub", folder)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # The folder huggingface_hub itself resolves the repo id to, without network.
    resolved = Path(snapshot_download("tiny-org/tiny-model", local_files_only=True))
    assert resolved == snapshot
    assert hub_snapshot(resolved) == ("tiny-org/tiny-model", COMMIT)
    revision = loaded_weights(object(), "tiny-org/tiny-model")
    assert revision is not None
    assert (revision.repo_id, revision.commit, Path(revision.path)) == ("tiny-org/tiny-model", COMMIT, snapshot)
    assert revision.content_hash == folder_hash(folder)[0]  # the links are followed to the same bytes
    assert revision.hash_method == HASH_METHOD and revision.weights == "tiny-org/tiny-model"


def test_a_plain_folder_has_no_commit(tmp_path):
    folder = checkpoint(tmp_path / "models--not" / "a-cache")
    revision = weights_revision(folder, str(folder))
    assert revision.commit is None and revision.repo_id is None
    assert hub_snapshot(tmp_path / "hub" / "models--a--b" / "refs") is None


def test_the_adapter_s_own_folder_comes_first_then_the_weights_as_a_folder(tmp_path):
    mine, named = checkpoint(tmp_path / "mine"), checkpoint(tmp_path / "named")

    class Adapter:
        path = str(mine)

    assert loaded_folder(Adapter(), str(named)) == mine
    assert loaded_folder(object(), str(named)) == named
    assert loaded_folder(object(), f"  {named}  ") == named


def test_weights_shipped_in_the_package_are_found_by_their_catalog_name():
    revision = loaded_weights(object(), "vlmbench:models/easyvqa-tiny")
    assert revision is not None
    assert revision.weights == "vlmbench:models/easyvqa-tiny"
    assert Path(revision.path).is_dir() and revision.n_files > 0


def test_no_local_weights_is_none_and_never_asks_the_hub(tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    started = time.monotonic()
    assert loaded_weights(object(), "gpt-4o-mini") is None  # a served model's name
    assert loaded_weights(object(), None) is None
    assert loaded_weights(object(), str(tmp_path / "gone")) is None
    assert time.monotonic() - started < 5


def test_a_link_back_up_the_folder_does_not_loop(tmp_path):
    folder = checkpoint(tmp_path / "ckpt")
    (folder / "sub" / "up").symlink_to(folder, target_is_directory=True)
    _, n_files, _ = folder_hash(folder)
    assert n_files == 4
