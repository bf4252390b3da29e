"""Model classes written for VLMHyperBench's `model_interface`, run unchanged.

VLMHyperBench's model packages (``model_qwen2_vl.models:Qwen2VLModel`` and
the like) subclass ``model_interface.model_interface.ModelInterface``: no
``generate``, but ``predict_on_image(image, prompt) -> str`` and
``predict_on_images(images, prompt) -> str``, one question at a time, with
the system prompt fixed at construction. :func:`adapter_for` wraps such a
class in a :class:`VLMHyperBenchModel` subclass, which the registry returns
for any catalog row naming it, so the row needs nothing extra.

The class is built as their runner builds it (``run_vlm.py`` through
``ModelFactory.get_model``): ``cls(model_name=..., system_prompt=...,
cache_dir=...)`` plus the row's params, or, for classes of model_interface
0.1.3 on, ``cls(model_config={"common_params": ..., "specific_params": ...})``
as ``ModelFactory.initialize_model`` does. Images reach it as their dataset
runners pass them: as file paths.
"""

from __future__ import annotations

import functools
import inspect
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from vlmbench.errors import ModelLoadError
from vlmbench.models.base import Request, VisionLanguageModel

if TYPE_CHECKING:
    from vlmbench.rundir.records import JobSpec

SINGLE, SEVERAL = "predict_on_image", "predict_on_images"
# model_interface 0.1.3's initialize_model puts these in common_params; other params are specific_params.
COMMON_PARAMS = ("model_family", "device_map")


def speaks_model_interface(target: object) -> bool:
    """A class with VLMHyperBench's prediction methods and not vlmbench's ``generate``."""
    return (isinstance(target, type) and not hasattr(target, "generate")
            and any(callable(getattr(target, name, None)) for name in (SINGLE, SEVERAL)))


@functools.cache
def adapter_for(target: type) -> type[VLMHyperBenchModel]:
    """The vlmbench model class driving ``target``; the same class every time it is asked for."""
    return type(target.__name__, (VLMHyperBenchModel,), {
        "wrapped": target,
        "__module__": __name__,
        "__doc__": f"{target.__module__}.{target.__qualname__} driven through VLMHyperBench's interface.",
    })


def default_cache_dir() -> str:
    """The Hugging Face hub cache, so their classes' downloads land where vlmbench's do (and in the
    cache the docker executor mounts and shares between jobs)."""
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    home = os.environ.get("HF_HOME") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"),
                                             "huggingface")
    return str(Path(home, "hub"))


def _takes_model_config(target: type) -> bool:
    try:
        parameters = inspect.signature(target).parameters
    except (TypeError, ValueError):  # a signature Python cannot read: the classic keyword form
        return False
    return "model_config" in parameters and "model_name" not in parameters


class VLMHyperBenchModel(VisionLanguageModel):
    """Drives :attr:`wrapped`, a class implementing VLMHyperBench's model_interface.

    ``model_name`` is what their runner passes (the catalog row's model_name;
    their classes load ``Qwen/{model_name}`` themselves), ``system_prompt`` the
    job's, ``cache_dir`` where downloads go; any other param is passed on.
    """

    wrapped: ClassVar[type]
    max_batch_size = 1  # their interface answers one question per call

    def __init__(self, weights: str | None = None, *, model_name: str | None = None, system_prompt: str = "",
                 cache_dir: str | None = None, **params: Any) -> None:
        super().__init__(weights, **params)
        name = f"{self.wrapped.__module__}:{self.wrapped.__qualname__}"
        if weights:
            raise ModelLoadError(f"{name} implements VLMHyperBench's model_interface, which takes no weights "
                                 f"(got {weights!r})",
                                 hint="leave `weights` blank: the class loads by its model_name (the catalog "
                                      "row's, or params' \"model_name\")")
        if not model_name:
            raise ModelLoadError(f"{name} implements VLMHyperBench's model_interface and needs a model_name",
                                 hint='run it through a catalog row, or pass params {"model_name": ...}')
        self.system_prompt = system_prompt
        cache_dir = cache_dir or default_cache_dir()
        if _takes_model_config(self.wrapped):
            common = {"model_name": model_name, "system_prompt": system_prompt, "cache_dir": cache_dir,
                      **{key: params.pop(key) for key in COMMON_PARAMS if key in params}}
            self.model = self.wrapped(model_config={"common_params": common, "specific_params": params})
        else:
            self.model = self.wrapped(model_name=model_name, system_prompt=system_prompt, cache_dir=cache_dir,
                                      **params)
        # Images go to their methods as files, as their dataset runners pass them: a PNG holds exactly the
        # pixels every vlmbench model is given (transparency already on white).
        self._image_dir = tempfile.TemporaryDirectory(prefix="vlmbench-vlmhyperbench-")

    @classmethod
    def for_job(cls, spec: JobSpec) -> VisionLanguageModel:
        """Their runner's construction: the row's model_name, the job's system prompt, the row's params."""
        params = dict(spec.model.params)
        params.setdefault("model_name", spec.model.model_name)
        if spec.prompt.system_prompt is not None:
            params["system_prompt"] = spec.prompt.system_prompt
        return cls(weights=spec.model.weights, **params)

    def generate(self, requests: Sequence[Request]) -> list[str]:
        return [self._answer(request) for request in requests]

    def _answer(self, request: Request) -> str:
        if request.system_prompt is not None and request.system_prompt != self.system_prompt:
            raise ValueError("VLMHyperBench's model_interface fixes the system prompt when the model is "
                             "built; this request asks for another one")
        if not request.images:
            raise ValueError("VLMHyperBench's model_interface answers about images; this request has none")
        method = SINGLE if len(request.images) == 1 else SEVERAL
        predict = getattr(self.model, method, None)
        if not callable(predict):
            raise ValueError(f"{type(self.model).__qualname__} has no {method}, needed for "
                             f"{len(request.images)} image(s)")
        paths = []
        try:
            for image in request.images:
                handle, path = tempfile.mkstemp(suffix=".png", dir=self._image_dir.name)
                os.close(handle)
                image.save(path, format="PNG")
                paths.append(path)
            # Positional, as their runners call it: the second parameter is `question` in some
            # versions of the interface and `prompt` in others.
            answer = predict(paths[0] if method == SINGLE else paths, request.prompt)
        finally:
            for path in paths:
                Path(path).unlink(missing_ok=True)
        if not isinstance(answer, str):
            raise TypeError(f"{type(self.model).__qualname__}.{method} returned {type(answer).__name__}, "
                            "not str")
        return answer

    def close(self) -> None:
        self.model = None
        self._image_dir.cleanup()
