"""Remote-code models that answer through their own ``chat()`` method instead of a processor.

MiniCPM-V 2.6 and MiniCPM-o 2.6 ship no multimodal processor that
``AutoProcessor`` can build; their remote code slices images and fills the
prompt inside ``model.chat(image=None, msgs=..., tokenizer=...)``, which
also takes a batch (a list of conversations). Messages carry PIL images
and text in one content list, images first.

Not tested here: no such checkpoint can be built without the hub. Older
versions (MiniCPM-Llama3-V 2.5) take the image apart from the messages and
are refused with a clear error. InternVL 2 / 2.5 remote code needs image
preprocessing that lives only in its model card, so it is refused too; its
transformers-native conversions (model type ``internvl``) run on the
generic path.
"""

from __future__ import annotations

from typing import Any

from vlmbench.errors import ModelLoadError
from vlmbench.models.base import GenerationParams, Request

CHAT_METHOD_TYPES = ("minicpmv", "minicpmo")
MIN_MINICPM_VERSION = 2.6


def uses_chat_method(config: Any, model_name: str) -> bool:
    """Whether `config` is a remote-code model answered through ``chat()``; refuses known misfits."""
    model_type = getattr(config, "model_type", "")
    if model_type == "internvl_chat":
        raise ModelLoadError(f"{model_name} is InternVL remote code, whose image preprocessing lives "
                             "outside the checkpoint",
                             hint="use its transformers-native '-hf' conversion (model type internvl), "
                                  "which the generic adapter runs")
    if model_type not in CHAT_METHOD_TYPES:
        return False
    version = float(getattr(config, "version", 0) or 0)
    if model_type == "minicpmv" and version < MIN_MINICPM_VERSION:
        raise ModelLoadError(f"{model_name} is MiniCPM-V {version or '< 2.6'}, whose chat() this adapter "
                             "does not speak", hint="use MiniCPM-V 2.6 or later")
    return True


def load_tokenizer(path: str, model_name: str) -> Any:
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(path, trust_remote_code=True)
    except Exception as exc:  # reported as a load failure, whatever its kind, its cause kept
        raise ModelLoadError(f"cannot load the tokenizer of {model_name} from {path}: {exc}") from exc


def _conversation(request: Request) -> list[dict[str, Any]]:
    images = [image.convert("RGB") for image in request.images]
    return [{"role": "user", "content": [*images, request.prompt]}]


def chat_answers(model: Any, tokenizer: Any, requests: list[Request], params: GenerationParams,
                 generation: dict[str, Any]) -> list[str]:
    """Answers from ``model.chat`` for a batch with equal generation params, one call per system prompt."""
    # chat() beam-searches unless told otherwise: greedy here means one beam, as on the generic path.
    options = {"max_new_tokens": params.max_new_tokens, "sampling": not params.greedy, **generation}
    options.update({"num_beams": 1} if params.greedy else {"temperature": params.temperature})
    answers: dict[int, str] = {}
    by_system: dict[str, list[int]] = {}
    for index, request in enumerate(requests):
        by_system.setdefault(request.system_prompt or "", []).append(index)
    for system_prompt, indices in by_system.items():
        conversations = [_conversation(requests[index]) for index in indices]
        replies = model.chat(image=None, msgs=conversations, tokenizer=tokenizer, system_prompt=system_prompt,
                             **options)
        replies = [replies] if isinstance(replies, str) else list(replies)
        answers.update(zip(indices, (str(reply).strip() for reply in replies), strict=True))
    return [answers[index] for index in range(len(requests))]
