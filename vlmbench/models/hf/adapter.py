"""The generic Hugging Face transformers adapter: any image-text-to-text checkpoint, batched.

``HFVisionModel(weights, **params)`` loads once and answers with
``generate(requests)``; family specifics live in :mod:`.quirks`, finding the
weights in :mod:`.weights`, the processor in :mod:`.processors`, the model
in :mod:`.loading`, the prompt in :mod:`.messages`, models that answer
through their own ``chat()`` in :mod:`.remote_chat`.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Sequence
from typing import Any

from vlmbench.errors import ModelLoadError
from vlmbench.models.base import GenerationParams, Request, VisionLanguageModel
from vlmbench.models.hf.loading import load_config, load_model
from vlmbench.models.hf.messages import render_chat, starts_with_bos
from vlmbench.models.hf.processors import load_processor
from vlmbench.models.hf.quirks import family_quirks
from vlmbench.models.hf.remote_chat import chat_answers, load_tokenizer, uses_chat_method
from vlmbench.models.hf.settings import HFSettings, parse_settings
from vlmbench.models.hf.weights import resolve_weights
from vlmbench.registry import register_model

# Greedy decoding must not inherit a checkpoint's sampling settings: GenerationConfig's neutral values.
_NEUTRAL_SAMPLING = {"temperature": 1.0, "top_p": 1.0, "top_k": 50, "num_beams": 1}


@register_model("hf", "transformers")
class HFVisionModel(VisionLanguageModel):
    """A transformers vision-language model answering text-only, single- and multi-image requests.

    ``weights`` is a local checkpoint folder or a Hugging Face repo id. A
    repo id is taken from the HF cache without network; it is downloaded
    only when ``HF_HUB_OFFLINE`` is unset and the hub answers within
    seconds. Otherwise :class:`~vlmbench.errors.ModelLoadError` says where
    it looked. ``params`` are checked against
    :class:`~vlmbench.models.hf.settings.HFSettings` (unknown keys are
    refused): ``dtype``, ``device``/``device_map``, ``attn_implementation``,
    ``trust_remote_code``, ``revision``, ``max_batch_size`` (default 8),
    ``min_pixels``/``max_pixels`` (Qwen-VL), ``task`` (Florence-2,
    GOT-OCR 2, PaliGemma), ``processor_kwargs``, ``generation`` (generate() defaults),
    ``seed``.

    Each request becomes a system message (if any) and a user message with
    one image part per image, then the text, rendered by the checkpoint's
    own chat template (:meth:`format_prompt` shows the result). Requests
    are answered in batches of at most ``max_batch_size`` with equal
    generation params: prompts padded on the left, one ``generate()`` call
    per batch, only the new tokens decoded, special tokens dropped,
    whitespace stripped. ``temperature == 0`` decodes greedily: a request
    gets the same answer alone or in any batch (up to floating-point ties
    between two tokens). Otherwise it samples at that temperature (the
    checkpoint's top-p/top-k apply). Calls are serialised by a lock, so one
    instance may serve several threads.

    Useful attributes: ``path`` (the local checkpoint folder), ``model``,
    ``processor``, ``model_type``, ``tokens_generated`` (new tokens so far);
    :meth:`prepare_inputs` shows the tensors a batch becomes.
    """

    def __init__(self, weights: str | None = None, **params: Any) -> None:
        super().__init__(weights, **params)
        name = weights or "the model"
        self.settings: HFSettings = parse_settings(params, name)
        self.max_batch_size = self.settings.max_batch_size
        self.path = resolve_weights(weights, name, self.settings.revision)
        if self.settings.seed is not None:
            import torch

            torch.manual_seed(self.settings.seed)
        config = load_config(self.path, name, self.settings.trust_remote_code)
        self.model_type: str = config.model_type
        if uses_chat_method(config, name):
            self.processor = None
            self.tokenizer = load_tokenizer(self.path, name)
        else:
            self.processor = load_processor(self.path, name, self.settings.trust_remote_code,
                                            self.settings.processor_kwargs)
            self.tokenizer = self.processor.tokenizer
            if config.is_encoder_decoder:
                # An encoder numbers positions from the first token, padding or not: left padding would
                # move a short prompt's tokens (Florence-2's image first) and change its answer in a batch.
                # Only a decoder-only prompt must end where the answer starts.
                self.tokenizer.padding_side = "right"
        self.quirks = family_quirks(self.model_type, self.settings, self.processor)
        self.model = load_model(self.path, name, self.settings, config)
        self.decode_ahead = self.model.device.type != "cpu"  # see VisionLanguageModel.decode_ahead
        if self.quirks.style != "chat_method":
            self._generation_config(GenerationParams())  # a typo in `generation` fails now, not per batch
        self.tokens_generated = 0  # new tokens so far, for throughput figures
        self._lock = threading.Lock()

    def format_prompt(self, request: Request) -> str | None:
        """The text the processor gets for `request` (None for models that prompt themselves)."""
        if self.quirks.style == "chat_method":
            return None
        if self.quirks.style == "chat":
            return render_chat(self.processor, request)
        if len(request.images) != 1:
            raise ValueError(f"{self.model_type} reads one image per request, got {len(request.images)}")
        if self.quirks.style == "prefix":
            # PaliGemma: the image, then the task prompt; its processor puts the BOS between them.
            return self.processor.image_token + self.quirks.prefixed_prompt(request.prompt, request.system_prompt)
        return self.quirks.task_prompt(request.prompt) if self.quirks.style == "task" else None

    def generate(self, requests: Sequence[Request]) -> list[str]:
        answers: list[str | None] = [None] * len(requests)
        groups: dict[GenerationParams, list[int]] = {}
        for index, request in enumerate(requests):
            groups.setdefault(request.params, []).append(index)
        with self._lock:
            for params, indices in groups.items():
                for start in range(0, len(indices), self.max_batch_size):
                    batch = indices[start:start + self.max_batch_size]
                    batch_answers = self._generate_batch([requests[i] for i in batch], params)
                    for index, answer in zip(batch, batch_answers, strict=True):
                        answers[index] = answer
        return [answer or "" for answer in answers]

    def prepare_inputs(self, requests: list[Request]) -> Any:
        """The processor's tensors for one batch, on the model's device: what `generate()` is given."""
        import torch

        if self.processor is None:
            raise TypeError(f"{self.model_type} answers through its own chat() and has no processor inputs")

        texts = [self.format_prompt(request) for request in requests]
        per_prompt = [[image.convert("RGB") for image in request.images] for request in requests]
        images = per_prompt if self.quirks.images_per_prompt else [image for group in per_prompt for image in group]
        has_images = any(request.images for request in requests)
        kwargs: dict[str, Any] = {"images": images if has_images else None, "return_tensors": "pt",
                                  **self.quirks.call_kwargs}
        if self.quirks.style != "ocr":
            kwargs.update(text=texts, padding=True)
            if starts_with_bos(self.tokenizer, texts):
                kwargs["add_special_tokens"] = False  # no second BOS after the template's own
        inputs = self.processor(**kwargs).to(self.model.device)
        for key, value in inputs.items():
            # pixel values come as float32; a bfloat16 model wants them in its own dtype.
            if isinstance(value, torch.Tensor) and value.is_floating_point():
                inputs[key] = value.to(self.model.dtype)
        return inputs

    def _generation_config(self, params: GenerationParams) -> Any:
        """The checkpoint's generation config, then greedy or sampling, then the row's `generation`."""
        config = copy.deepcopy(self.model.generation_config)
        if params.greedy:
            config.update(do_sample=False, **_NEUTRAL_SAMPLING)
        else:
            config.update(do_sample=True, temperature=params.temperature)
        unknown = config.update(**self.settings.generation)
        if unknown:
            raise ModelLoadError(f"unknown generation settings {sorted(unknown)} for {self.weights}",
                                 hint="use GenerationConfig's names, e.g. repetition_penalty, num_beams")
        config.max_new_tokens = params.max_new_tokens
        if self.quirks.stop_tokens:
            config.eos_token_id = self._stop_ids(config.eos_token_id)
        if config.pad_token_id is None:
            config.pad_token_id = self.tokenizer.pad_token_id
        return config

    def _stop_ids(self, eos: int | list[int] | None) -> list[int]:
        """`eos` and the family's own stop tokens, as one list."""
        ids = [] if eos is None else list(eos) if isinstance(eos, list) else [eos]
        extra = [self.tokenizer.convert_tokens_to_ids(token) for token in self.quirks.stop_tokens]
        return ids + [token for token in extra if token not in ids]

    def _generate_batch(self, requests: list[Request], params: GenerationParams) -> list[str]:
        import torch

        if self.quirks.style == "chat_method":
            return chat_answers(self.model, self.tokenizer, requests, params, self.settings.generation)
        inputs = self.prepare_inputs(requests)
        with torch.inference_mode():
            output = self.model.generate(**inputs, generation_config=self._generation_config(params))
        # Decoder-only models return prompt + answer; encoder-decoder ones (Florence-2) the answer alone.
        new = output if self.model.config.is_encoder_decoder else output[:, inputs["input_ids"].shape[1]:]
        self.tokens_generated += self._count_tokens(new)
        return [text.strip() for text in self.tokenizer.batch_decode(new, skip_special_tokens=True)]

    def _count_tokens(self, new: Any) -> int:
        import torch

        eos = self.model.generation_config.eos_token_id
        stop = [self.tokenizer.pad_token_id, *(eos if isinstance(eos, list) else [eos])]
        stop_ids = torch.tensor([token for token in stop if token is not None], device=new.device)
        return int((~torch.isin(new, stop_ids)).sum())

    def close(self) -> None:
        import gc

        import torch

        self.model = None
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


__all__ = ["HFVisionModel"]
