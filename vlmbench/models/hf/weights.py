"""Finding a checkpoint: a local folder, the Hugging Face cache, or the hub — and failing fast.

The order is: a folder on disk; the repo's snapshot in the local HF cache
(no network); the hub, but only when offline mode is off and the hub
answers a quick probe. Anything else ends in a :class:`ModelLoadError` that
names the model, the path or repo, and the cache folder looked in, within
seconds: a benchmark run on a machine without network must never hang on
a download that cannot happen.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from vlmbench.errors import ModelLoadError

PROBE_TIMEOUT_S = 5.0
# Formats transformers never loads; skipping them keeps a download to what is needed.
IGNORED_FILES = ["*.h5", "*.msgpack", "*.onnx", "*.onnx_data", "*.gguf", "*.ot", "*.tflite", "original/*"]
_TRUE = {"1", "true", "yes", "on"}


def hub_offline() -> bool:
    """Offline mode as set now (the hub library reads it once, at import)."""
    return any(os.environ.get(name, "").strip().lower() in _TRUE
               for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def looks_like_path(weights: str) -> bool:
    """A repo id is `name` or `owner/name`; anything else with a separator or a leading dot or ~ is a path."""
    return (weights.startswith((".", "~", "/", "\\")) or weights.count("/") > 1 or "\\" in weights
            or (len(weights) > 1 and weights[1] == ":"))  # C:\...


def _cache_dir() -> str:
    from huggingface_hub import constants

    return constants.HF_HUB_CACHE


def _cached_snapshot(repo_id: str, revision: str | None) -> str | None:
    from huggingface_hub import snapshot_download

    try:
        return snapshot_download(repo_id, revision=revision, local_files_only=True)
    except (OSError, ValueError):  # the hub's errors (not cached, offline, a bad repo id): "not in the cache"
        return None


def probe_hub(repo_id: str, timeout_s: float = PROBE_TIMEOUT_S) -> str | None:
    """None when the hub answers for `repo_id` within `timeout_s`, else why not.

    The request runs in a daemon thread joined with a deadline, because name
    resolution is not covered by the HTTP client's timeout.
    """
    from huggingface_hub import constants
    from huggingface_hub.utils import get_session

    url = f"{constants.ENDPOINT}/api/models/{repo_id}"
    outcome: list[str | None] = []

    def ask() -> None:
        try:
            response = get_session().head(url, timeout=timeout_s, follow_redirects=True)
            if response.status_code in (401, 403, 404):
                outcome.append(f"the hub answered {response.status_code} for {repo_id!r} "
                               "(no such repo, or a gated one: set HF_TOKEN)")
            else:
                outcome.append(None)
        except Exception as exc:  # noqa: BLE001 - every failure is a reason to report
            outcome.append(f"{type(exc).__name__}: {exc}")

    thread = threading.Thread(target=ask, name="hf-hub-probe", daemon=True)
    thread.start()
    thread.join(timeout_s + 1.0)
    if not outcome:
        return f"no answer from {constants.ENDPOINT} within {timeout_s:.0f} s"
    return outcome[0]


def resolve_weights(weights: str | None, model_name: str, revision: str | None = None) -> str:
    """A local folder holding the checkpoint `weights` names, downloading it if it must and can."""
    if not weights or not weights.strip():
        raise ModelLoadError(f"no weights given for {model_name}",
                             hint="set `weights` in the catalog row to a local folder or an HF repo id")
    weights = weights.strip()
    folder = Path(weights).expanduser()
    if folder.is_dir():
        return str(folder)
    if folder.exists() or looks_like_path(weights):
        what = "is not a folder" if folder.exists() else "does not exist"
        raise ModelLoadError(f"weights of {model_name}: {folder.absolute()} {what}",
                             hint="point `weights` at the folder that holds config.json and the model files")
    if snapshot := _cached_snapshot(weights, revision):
        return snapshot
    cache = _cache_dir()
    where = f"{weights!r} is not in the Hugging Face cache ({cache}) nor a local folder"
    if hub_offline():
        raise ModelLoadError(f"weights of {model_name}: {where}, and HF_HUB_OFFLINE is set",
                             hint=f"download it where the hub is reachable (hf download {weights}) and "
                                  "mount the cache as HF_HOME, or set `weights` to a local folder")
    if reason := probe_hub(weights):
        raise ModelLoadError(f"weights of {model_name}: {where}, and the hub cannot be reached: {reason}",
                             hint="check the network or proxy, or download the weights elsewhere and set "
                                  "`weights` to their folder")
    return _download(weights, model_name, revision)


def _download(repo_id: str, model_name: str, revision: str | None) -> str:
    from huggingface_hub import snapshot_download

    try:
        return snapshot_download(repo_id, revision=revision, etag_timeout=PROBE_TIMEOUT_S,
                                 ignore_patterns=IGNORED_FILES)
    except Exception as exc:  # hub errors come in many types; all mean the same to the user
        raise ModelLoadError(f"weights of {model_name}: downloading {repo_id!r} into {_cache_dir()} failed: "
                             f"{type(exc).__name__}: {exc}",
                             hint="check disk space, network and HF_TOKEN, then run again (downloads resume)",
                             ) from exc
