"""Loading a checkpoint's model class onto a device, with remote-code models as a second route.

Models transformers knows load through ``AutoModelForImageTextToText``.
Models that bring their own code (InternVL, MiniCPM-V, Phi-3.5-vision,
...) name their classes in the config's ``auto_map``; they load through the
first Auto class listed there that fits, and only with
``trust_remote_code``.
"""

from __future__ import annotations

from typing import Any

from vlmbench.errors import ModelLoadError
from vlmbench.models.hf.settings import HFSettings

# In order of preference; AutoModelForVision2Seq is gone from transformers 5 but
# older images still have it, and remote-code models still name it.
AUTO_CLASSES = ("AutoModelForImageTextToText", "AutoModelForVision2Seq", "AutoModelForCausalLM", "AutoModel")


def _load_error(model_name: str, path: str, exc: Exception) -> ModelLoadError:
    import transformers

    text = f"{type(exc).__name__}: {exc}".strip()
    if "trust_remote_code" in text:
        hint = 'the model brings its own code: set params {"trust_remote_code": true} if you trust it'
    elif "does not recognize this architecture" in text or "model type" in text:
        hint = f"transformers {transformers.__version__} may be too old for it: use an image with a newer one"
    else:
        hint = f"check the files in {path} (config.json, *.safetensors) and the model's requirements"
    return ModelLoadError(f"cannot load {model_name} from {path}: {text}", hint=hint)


def pick_auto_class(config: Any) -> type:
    """The Auto class that builds a generating model for `config`."""
    import transformers

    auto_map = getattr(config, "auto_map", None) or {}
    for name in AUTO_CLASSES:
        auto_class = getattr(transformers, name, None)
        if auto_class is None:
            continue
        if name in auto_map or type(config) in auto_class._model_mapping:
            return auto_class
    raise LookupError(f"no Auto class of transformers generates text for model type {config.model_type!r}")


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def torch_dtype(name: str) -> Any:
    import torch

    return name if name == "auto" else getattr(torch, name)


def load_config(path: str, model_name: str, trust_remote_code: bool) -> Any:
    """The checkpoint's config: which family it is, and which classes build it."""
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(path, trust_remote_code=trust_remote_code)
    except Exception as exc:  # a load failure of any kind is reported the same way, its cause kept
        raise _load_error(model_name, path, exc) from exc


def load_model(path: str, model_name: str, settings: HFSettings, config: Any) -> Any:
    """The model in the local folder `path`, on its device(s), in eval mode."""
    try:
        auto_class = pick_auto_class(config)
        kwargs: dict[str, Any] = {"dtype": torch_dtype(settings.dtype),
                                  "trust_remote_code": settings.trust_remote_code}
        if settings.attn_implementation:
            kwargs["attn_implementation"] = settings.attn_implementation
        if settings.device_map is not None:
            kwargs["device_map"] = settings.device_map
        model = auto_class.from_pretrained(path, **kwargs)
        if settings.device_map is None:
            model = model.to(settings.device or default_device())
    except Exception as exc:  # a load failure of any kind is reported the same way, its cause kept
        raise _load_error(model_name, path, exc) from exc
    return model.eval()
