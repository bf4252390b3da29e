"""Model registry: from a catalog row's class reference to a model class.

A reference is either an import path `package.module:Class` (any installed
package, never heard of by vlmbench) or a short registered name. A class
written for VLMHyperBench's model_interface resolves to an adapter driving it
(:mod:`vlmbench.models.vlmhyperbench`). Names come
from three places, looked up in this order: classes registered with
:func:`register_model` in modules already imported, the built-in adapters
(import paths only, so importing this module never imports torch), and
entry points in the group ``vlmbench.models``.
"""

from __future__ import annotations

import importlib
import pkgutil
from importlib import metadata

from vlmbench.errors import RegistryError
from vlmbench.models.base import VisionLanguageModel
from vlmbench.suggest import did_you_mean

ENTRY_POINT_GROUP = "vlmbench.models"

# Built-in adapters by name; imported only when a job asks for one.
BUILTIN_MODELS: dict[str, str] = {
    "tesseract": "vlmbench.models.tesseract:TesseractOCR",
    "echo": "vlmbench.models.echo:EchoModel",
    "hf": "vlmbench.models.hf.adapter:HFVisionModel",
    "transformers": "vlmbench.models.hf.adapter:HFVisionModel",
    "openai": "vlmbench.models.openai_api:OpenAICompatibleModel",
    "openai-compatible": "vlmbench.models.openai_api:OpenAICompatibleModel",
    "vllm": "vlmbench.models.vllm_engine:VLLMModel",
    "vllm-server": "vlmbench.models.vllm_engine:VLLMServerModel",
    "majority": "vlmbench.models.baselines:MajorityAnswer",
}

_registered: dict[str, type[VisionLanguageModel]] = {}


def register_model(name: str, *aliases: str):
    """Class decorator: make a model class findable by a short name."""

    def decorate(cls: type[VisionLanguageModel]) -> type[VisionLanguageModel]:
        if not (isinstance(cls, type) and issubclass(cls, VisionLanguageModel)):
            raise TypeError(f"@register_model({name!r}) needs a VisionLanguageModel subclass, got {cls!r}")
        for key in (name, *aliases):
            _registered[key] = cls
        return cls

    return decorate


def _entry_points() -> dict[str, metadata.EntryPoint]:
    from vlmbench.catalog import plugin_entry_points  # it imports this module's neighbours, not this one

    return {entry.name: entry for entry in plugin_entry_points(ENTRY_POINT_GROUP)}


def known_names() -> list[str]:
    return sorted({*_registered, *BUILTIN_MODELS, *_entry_points()})


def _import_path(reference: str, install_hint: str | None) -> object:
    module_name = reference.split(":", 1)[0]
    try:
        return pkgutil.resolve_name(reference)
    except ModuleNotFoundError as exc:
        # Only a missing *named* module is the user's problem; a missing
        # dependency inside it is reported the same way but names that module.
        hint = f"pip install {install_hint}" if install_hint else "install the package that provides it"
        raise RegistryError(f"cannot import {module_name!r} for model class {reference!r}: {exc}", hint=hint) from None
    except AttributeError:
        raise RegistryError(f"module {module_name!r} has no class {reference.split(':', 1)[-1]!r}",
                            hint="check class_name in the catalog row") from None
    except ValueError as exc:
        raise RegistryError(f"bad class reference {reference!r}: {exc}", hint="write package.module:ClassName") from None
    except Exception as exc:  # noqa: BLE001 - the module itself is broken (an ImportError inside, a SyntaxError)
        raise RegistryError(f"module {module_name!r} for model class {reference!r} fails to import: "
                            f"{type(exc).__name__}: {exc}", hint="fix or reinstall the package that provides it") from None


def resolve_model_class(reference: str, install_hint: str | None = None) -> type[VisionLanguageModel]:
    """Import and check the class a catalog row names."""
    if ":" in reference:
        target = _import_path(reference, install_hint)
    elif reference in _registered:
        target = _registered[reference]
    elif reference in BUILTIN_MODELS:
        target = _import_path(BUILTIN_MODELS[reference], install_hint)
    elif reference in (entries := _entry_points()):
        try:
            target = entries[reference].load()
        except Exception as exc:  # noqa: BLE001 - whatever a plugin's import raises is the plugin's fault
            raise RegistryError(f"entry point {reference!r} of {ENTRY_POINT_GROUP} fails to import: "
                                f"{type(exc).__name__}: {exc}",
                                hint="fix or uninstall the package that provides it") from None
    else:
        hint = did_you_mean(reference, known_names(), cutoff=0.5) or (
            "use package.module:ClassName, or one of: " + ", ".join(known_names()))
        raise RegistryError(f"unknown model class {reference!r}", hint=hint)
    if isinstance(target, type) and issubclass(target, VisionLanguageModel):
        return target
    from vlmbench.models.vlmhyperbench import adapter_for, speaks_model_interface

    if speaks_model_interface(target):
        return adapter_for(target)
    raise RegistryError(f"{reference!r} is not a vlmbench model class",
                        hint="subclass vlmbench.models.base.VisionLanguageModel, or implement VLMHyperBench's "
                             "model_interface (predict_on_image / predict_on_images)")


def module_is_importable(reference: str) -> bool:
    """Whether the module of an import path can be found, without importing it."""
    if ":" not in reference:  # the installed entry points are read last: a run CSV asks this once per row
        return reference in _registered or reference in BUILTIN_MODELS or reference in _entry_points()
    module_name = reference.split(":", 1)[0]
    try:
        return importlib.util.find_spec(module_name) is not None
    except Exception:  # noqa: BLE001 - finding a.b imports a, whose import may fail in any way
        return False
