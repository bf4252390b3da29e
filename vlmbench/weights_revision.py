"""Which weights a worker loaded: the hub commit of a cached snapshot, and a hash of the folder's content.

A catalog row names weights by repo id or path, and either can move under
a run: a repo's ``main`` gets a new commit, a folder is overwritten by a
newer checkpoint. So the worker records what it actually loaded, once the
model is up: the folder, the commit when the folder is a snapshot of the
Hugging Face cache (``…/models--owner--name/snapshots/<commit>``: the
cache names each snapshot folder after its commit), and always a content
hash of the folder, which a reader can recompute with :func:`folder_hash`.

The content hash, method ``vlmbench-folder-v1``, is made to take well
under a second on a model of many gigabytes, so it does not read every
byte of the weights:

- every file under the folder, following symbolic links (a hub snapshot's
  files are links into its ``blobs``), skipping any file or folder whose
  name starts with ``.`` (``.cache``, ``.git``: the tools' bookkeeping);
- one line per file, in the order of their relative POSIX paths:
  ``<path>\\t<size in bytes>\\t<sha256 hex>\\n``, where the sha256 is of
  the whole file up to 1 MiB (configs, tokenizer, chat and processor
  templates: everything that changes a prompt), and of its first 512 KiB
  followed by its last 512 KiB for a larger file (weight shards);
- the content hash is the sha256 hex of those lines, UTF-8 encoded.

It tells a folder from another (a new checkpoint changes a config, a size
or the sampled bytes of its shards); it is not a proof that no byte in
the middle of a shard changed: ``sha256sum`` over the files is that.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from vlmbench.models.packaged import resolve_packaged
from vlmbench.rundir.records import WeightsRevision

HASH_METHOD = "vlmbench-folder-v1"
SMALL_FILE_BYTES = 1 << 20  # hashed whole up to this size
END_BYTES = 1 << 19  # of a larger file, this much of its head and of its tail
HUB_CACHE_PREFIX = "models--"
SNAPSHOTS = "snapshots"


def folder_files(folder: Path) -> list[tuple[str, Path]]:
    """(relative POSIX path, path) of every file the hash covers, in hashing order."""
    found: list[tuple[str, Path]] = []
    seen: set[str] = set()  # real folders walked already: a link back up must not loop
    for root, dirs, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(root)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = sorted(name for name in dirs if not name.startswith("."))  # walked in a fixed order
        for name in files:
            if not name.startswith("."):
                path = Path(root, name)
                found.append((path.relative_to(folder).as_posix(), path))
    return sorted(found)


def _file_digest(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        if size <= SMALL_FILE_BYTES:
            digest.update(handle.read())
        else:
            digest.update(handle.read(END_BYTES))
            handle.seek(size - END_BYTES)
            digest.update(handle.read(END_BYTES))
    return digest.hexdigest()


def folder_hash(folder: Path | str) -> tuple[str, int, int]:
    """The folder's content hash (method ``vlmbench-folder-v1``, see the module), its file count and bytes."""
    folder = Path(folder)
    lines, total = hashlib.sha256(), 0
    files = folder_files(folder)
    for relative, path in files:
        size = path.stat().st_size
        total += size
        lines.update(f"{relative}\t{size}\t{_file_digest(path, size)}\n".encode())
    return lines.hexdigest(), len(files), total


def hub_snapshot(folder: Path | str) -> tuple[str, str] | None:
    """(repo id, commit) when ``folder`` is a snapshot folder of a Hugging Face cache, else None."""
    for path in dict.fromkeys((Path(folder), Path(folder).resolve())):
        repo, snapshots, commit = path.parts[-3:] if len(path.parts) >= 3 else ("", "", "")
        if snapshots == SNAPSHOTS and repo.startswith(HUB_CACHE_PREFIX) and commit:
            # The cache spells "owner/name" as "owner--name"; the hub allows no "--" in either.
            return repo.removeprefix(HUB_CACHE_PREFIX).replace("--", "/"), commit
    return None


def _cached_snapshot(repo_id: str, revision: str | None) -> Path | None:
    """The snapshot folder of ``repo_id`` in the local Hugging Face cache, never asking the hub."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError:  # an environment that loads no hub weights (an OCR baseline's image)
        return None
    try:
        return Path(snapshot_download(repo_id, revision=revision, local_files_only=True))
    except (OSError, ValueError):  # not cached, or not a repo id at all (a served model's name)
        return None


def loaded_folder(model: object, weights: str | None, revision: str | None = None) -> Path | None:
    """The folder a loaded model's weights came from.

    The adapter's own ``path`` where it has one (the transformers adapter's
    resolved checkpoint folder), else ``weights`` as a folder, else the
    snapshot of ``weights`` as a repo id in the Hugging Face cache (where
    vLLM looks too). None for a model without local weights (a remote API).
    """
    path = getattr(model, "path", None)
    if isinstance(path, (str, os.PathLike)) and Path(path).is_dir():
        return Path(path)
    if not weights or not weights.strip():
        return None
    folder = Path(weights.strip()).expanduser()
    if folder.is_dir():
        return folder
    return _cached_snapshot(weights.strip(), revision)


def weights_revision(folder: Path | str, weights: str | None = None) -> WeightsRevision:
    """What identifies the weights in ``folder``: its hub commit (if a cache snapshot) and content hash."""
    content_hash, n_files, total = folder_hash(folder)
    repo_id, commit = hub_snapshot(folder) or (None, None)
    return WeightsRevision(weights=weights, path=str(folder), repo_id=repo_id, commit=commit,
                           content_hash=content_hash, hash_method=HASH_METHOD, n_files=n_files,
                           total_bytes=total)


def loaded_weights(model: object, weights: str | None, revision: str | None = None) -> WeightsRevision | None:
    """The revision of the weights a loaded model came from; None when it has no local folder.

    ``weights`` as the catalog row names them (``vlmbench:models/…`` for weights shipped in the package).
    """
    folder = loaded_folder(model, resolve_packaged(weights), revision)
    return None if folder is None else weights_revision(folder, weights)
