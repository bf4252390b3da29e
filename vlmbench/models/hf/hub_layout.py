"""Saved checkpoints in the layout the hub's own checkpoints have, so every loader reads them.

transformers 5 saves a LLaVA-style model's CLIP or SigLIP tower as
``vision_tower.*``, where the hub's checkpoints (written by transformers 4)
say ``vision_tower.vision_model.*``. transformers 5 loads both, vLLM only
the hub's names, so a folder this project writes (the tiny test models, the
shipped easy-VQA model) renames its tower's weights after saving. Towers
without that inner module (Pixtral's, in a ``llava`` config too) keep their
names.
"""

from __future__ import annotations

import json
from pathlib import Path

# model_type -> (the prefix transformers 5 writes, the prefix hub checkpoints have)
_TOWER_PREFIXES = ("vision_tower.", "vision_tower.vision_model.")
_RENAMED_PREFIXES: dict[str, tuple[str, str]] = {
    model_type: _TOWER_PREFIXES
    for model_type in ("llava", "llava_next", "llava_onevision", "aya_vision", "gemma3", "paligemma")}
# vision_config model_type of the towers whose hub weights sit under an inner ``vision_model``
_NESTED_TOWERS = ("clip_vision_model", "siglip_vision_model")


def to_hub_weight_names(folder: Path) -> bool:
    """Rename the weights of a saved folder to the hub's names; True when anything changed.

    Only single-file checkpoints (``model.safetensors``): the folders this
    project writes are all that small.
    """
    from safetensors.torch import load_file, save_file

    folder = Path(folder)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    model_type = config.get("model_type")
    tower_type = (config.get("vision_config") or {}).get("model_type")
    if model_type not in _RENAMED_PREFIXES or tower_type not in _NESTED_TOWERS:
        return False
    old, new = _RENAMED_PREFIXES[model_type]
    path = folder / "model.safetensors"
    tensors = load_file(path)
    if not any(name.startswith(old) and not name.startswith(new) for name in tensors):
        return False
    renamed = {new + name.removeprefix(old) if name.startswith(old) and not name.startswith(new) else name:
               tensor for name, tensor in tensors.items()}
    save_file(renamed, path, metadata={"format": "pt"})  # what save_pretrained writes and loaders check
    return True
