"""Building a model's processor: AutoProcessor first, its image and text halves when that fails.

A multimodal processor bundles an image processor, a tokenizer, a chat
template and the family's rule for expanding image placeholders. Some
families' processors also insist on a video processor, which in
transformers 5 needs torchvision even when no video is ever sent. For those
the processor class is built again without the video half, from the image
processor and tokenizer saved beside the weights, so an image benchmark
needs neither torchvision nor a video config.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

from vlmbench.errors import ModelLoadError


class _NoVideoProcessor:
    """Where an image-only processor's video processor would be: no frame-sampling defaults.

    SmolVLM's ``apply_chat_template`` reads ``video_processor.num_frames`` and ``.fps`` for every chat,
    videos or not; None is what "not set" means to the rest of transformers.
    """

    num_frames = None
    fps = None


@functools.cache
def image_only_processor(processor_cls: type) -> type:
    """A subclass of `processor_cls` that takes no video processor (and so needs no torchvision).

    ``ProcessorMixin`` reads its sub-processors off the ``__init__``
    signature, so a signature without ``video_processor`` is all it takes.
    The subclass keeps the parent's name so ``save_pretrained`` records the
    real processor class.
    """

    # Some (SmolVLM's) make the video processor a required argument; None is what the others default to.
    video = {"video_processor": None} if "video_processor" in inspect.signature(processor_cls).parameters else {}

    def __init__(self: Any, image_processor: Any = None, tokenizer: Any = None, **kwargs: Any) -> None:
        processor_cls.__init__(self, image_processor, tokenizer, **video, **kwargs)

    # save_pretrained writes the settings named in __init__'s signature (SmolVLM's image_seq_len, ...):
    # the parent's, less the video processor.
    parent = inspect.signature(processor_cls.__init__)
    __init__.__signature__ = parent.replace(  # type: ignore[attr-defined]
        parameters=[param for name, param in parent.parameters.items() if name != "video_processor"])
    namespace = {"__init__": __init__, "__module__": processor_cls.__module__,
                 "__doc__": processor_cls.__doc__, "video_processor": _NoVideoProcessor()}
    return type(processor_cls.__name__, (processor_cls,), namespace)


def _processor_class(path: str, trust_remote_code: bool) -> type:
    from transformers import AutoConfig
    from transformers.models.auto.processing_auto import PROCESSOR_MAPPING

    config = AutoConfig.from_pretrained(path, trust_remote_code=trust_remote_code)
    try:
        return PROCESSOR_MAPPING[type(config)]
    except KeyError:
        raise LookupError(f"transformers has no processor for model type {config.model_type!r}") from None


def _from_parts(path: str, trust_remote_code: bool, processor_kwargs: dict[str, Any]) -> Any:
    """The family's processor built from its image processor and tokenizer alone."""
    from transformers import AutoImageProcessor, AutoTokenizer

    processor_cls = _processor_class(path, trust_remote_code)
    parts = set(processor_cls.get_attributes()) - {"video_processor"}
    if parts != {"image_processor", "tokenizer"}:
        raise LookupError(f"{processor_cls.__name__} needs {', '.join(sorted(parts))}, not only an image "
                          "processor and a tokenizer")
    processor_dict, _ = processor_cls.get_processor_dict(path)
    accepted = set(inspect.signature(processor_cls.__init__).parameters) - {"self", *parts, "video_processor"}
    init_kwargs = {key: value for key, value in processor_dict.items() if key in accepted}
    # Processor settings here are image settings (do_image_splitting, num_crops, ...): the text side has none.
    image_processor = AutoImageProcessor.from_pretrained(path, trust_remote_code=trust_remote_code,
                                                         **processor_kwargs)
    tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    return image_only_processor(processor_cls)(image_processor, tokenizer, **init_kwargs)


def load_processor(path: str, model_name: str, trust_remote_code: bool = False,
                   processor_kwargs: dict[str, Any] | None = None) -> Any:
    """The processor saved in the local folder `path`, its tokenizer padding on the left.

    Left padding makes every prompt of a batch end where its answer begins,
    which is what batched generation of decoder-only models needs.
    `processor_kwargs` go to ``AutoProcessor.from_pretrained``.
    """
    from transformers import AutoProcessor

    processor_kwargs = dict(processor_kwargs or {})
    try:
        processor = AutoProcessor.from_pretrained(path, trust_remote_code=trust_remote_code,
                                                  **processor_kwargs)
    except Exception as first:  # noqa: BLE001 - any failure gets the second route before it is reported
        try:
            processor = _from_parts(path, trust_remote_code, processor_kwargs)
        except Exception as second:  # reported with both causes, the second chained
            raise ModelLoadError(
                f"cannot build the processor of {model_name} from {path}: {type(first).__name__}: {first}; "
                f"nor from its image processor and tokenizer: {type(second).__name__}: {second}",
                hint="check that the folder holds processor_config.json (or preprocessor_config.json) "
                     "and the tokenizer files",
            ) from second
    tokenizer = getattr(processor, "tokenizer", None)
    if tokenizer is None or getattr(processor, "image_processor", None) is None:
        # AutoProcessor hands back a bare tokenizer when a checkpoint has no processor: remote-code
        # models such as InternVL 2 or MiniCPM-V that preprocess images in their own chat() method.
        raise ModelLoadError(
            f"{model_name} has no multimodal processor in {path} (found {type(processor).__name__})",
            hint="use the model's transformers-native checkpoint (for InternVL the '-hf' repos) or an "
                 "adapter written for its own chat() API")
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        # Many decoder-only tokenizers have no pad token; any token works, the attention mask hides it.
        tokenizer.pad_token = tokenizer.eos_token
    return processor
