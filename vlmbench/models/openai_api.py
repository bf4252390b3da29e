"""Any OpenAI-compatible ``/v1/chat/completions`` endpoint as a model: vLLM, SGLang, LMDeploy, hosted APIs.

A batch fans out over a thread pool, at most ``max_concurrency`` requests
at once; each request is retried on 429, 5xx and connection errors (see
:mod:`vlmbench.models.openai_http`). Images travel inline as base64 data
URLs, so the server needs no access to the dataset.

The API key comes from ``api_key_env`` (the *name* of an environment
variable), else ``VLMBENCH_API_KEY``, else ``OPENAI_API_KEY``. Prefer that
to an ``api_key`` param: params are written into job.json and run.json.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from vlmbench.errors import ModelLoadError
from vlmbench.models.base import Request, VisionLanguageModel
from vlmbench.models.openai_http import ChatClient, EndpointError, RetryPolicy
from vlmbench.models.openai_messages import ImageFormat, MessageError, answer_text, to_messages
from vlmbench.registry import register_model

logger = logging.getLogger("vlmbench.openai")

DEFAULT_KEY_VARIABLES = ("VLMBENCH_API_KEY", "OPENAI_API_KEY")
BASE_URL_VARIABLE = "VLMBENCH_API_BASE"
CARRY_LIMIT = 4096


class ClientParams(BaseModel):
    """How requests are sent; shared with the vLLM server adapter."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: str | None = None  # the served model id; default: the catalog row's weights
    max_concurrency: int = Field(default=8, ge=1, le=1024)
    timeout_s: float = Field(default=120.0, gt=0)
    max_retries: int = Field(default=4, ge=0)
    backoff_s: float = Field(default=1.0, ge=0)
    backoff_max_s: float = Field(default=30.0, ge=0)
    image_format: ImageFormat = "auto"
    max_tokens_field: str = "max_tokens"  # some hosted APIs want "max_completion_tokens"
    extra_body: dict[str, Any] = Field(default_factory=dict)  # e.g. {"top_p": 0.9, "seed": 0}


class OpenAIParams(ClientParams):
    base_url: str | None = None
    api_key: SecretStr | None = None
    api_key_env: str | None = None
    anonymous: bool = False  # send no key even if the environment holds one (local servers)
    check_endpoint: bool = True


def validate_params(schema: type[BaseModel], params: dict[str, Any], adapter: str) -> Any:
    """Params of a catalog row checked against a schema; every problem in one ModelLoadError."""
    try:
        return schema.model_validate(params)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"]) or "params"
            # Never echo a rejected value: it might be the API key.
            problems.append(f"{name}: unknown parameter" if error["type"] == "extra_forbidden" else
                            f"{name}: {error['msg']}")
        known = ", ".join(sorted(schema.model_fields))
        raise ModelLoadError(f"bad params for the {adapter} adapter: {'; '.join(problems)}",
                             hint=f"known params: {known}") from None


def resolve_api_key(settings: OpenAIParams) -> str | None:
    if settings.anonymous:
        return None
    if settings.api_key is not None:
        return settings.api_key.get_secret_value()
    if settings.api_key_env:
        value = os.environ.get(settings.api_key_env)
        if not value:
            raise ModelLoadError(
                f"environment variable {settings.api_key_env} (named by api_key_env) is not set",
                hint=f"export {settings.api_key_env}=... before the run")
        return value
    return next((os.environ[name] for name in DEFAULT_KEY_VARIABLES if os.environ.get(name)), None)


def normalize_base_url(url: str) -> str:
    """``http://host:8000`` and ``http://host:8000/v1/`` both mean ``http://host:8000/v1``."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ModelLoadError(f"base_url {url!r} is not an http(s) URL", hint="e.g. http://127.0.0.1:8000/v1")
    rest = url.partition("://")[2]
    return url if "/" in rest else f"{url}/v1"


def _listed_models(body: Any) -> list[str]:
    """Model ids of a ``GET /models`` answer; empty when the body is not the OpenAI list shape."""
    entries = body.get("data") if isinstance(body, dict) else None
    if not isinstance(entries, list):
        return []
    return [str(entry["id"]) for entry in entries if isinstance(entry, dict) and entry.get("id")]


def _fingerprint(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()


@register_model("openai", "openai-compatible")
class OpenAICompatibleModel(VisionLanguageModel):
    """Sends each request to ``{base_url}/chat/completions`` and returns the assistant's text.

    Params (checked on arrival, unknown ones refused): ``base_url`` (else
    ``VLMBENCH_API_BASE``), ``model`` (the served id; default the weights,
    else the only model ``GET /models`` lists), ``api_key_env``,
    ``api_key``, ``anonymous``, ``max_concurrency`` (8), ``timeout_s`` (120,
    per attempt), ``max_retries`` (4), ``backoff_s`` (1, doubled per retry,
    jittered, capped by ``backoff_max_s``), ``image_format`` (auto: PNG,
    JPEG for photos over a megapixel), ``max_tokens_field``, ``extra_body``
    (merged into every request, e.g. ``{"top_p": 0.9}``) and
    ``check_endpoint`` (probe ``GET /models`` at load time so that a down
    server or a bad key fails the job at once, with one line).
    """

    def __init__(self, weights: str | None = None, **params: Any) -> None:
        super().__init__(weights)
        settings: OpenAIParams = validate_params(OpenAIParams, params, "openai")
        base_url = settings.base_url or os.environ.get(BASE_URL_VARIABLE)
        if not base_url:
            raise ModelLoadError(
                "no endpoint: the openai adapter needs a base_url",
                hint=f"set params base_url (e.g. http://127.0.0.1:8000/v1) or {BASE_URL_VARIABLE}")
        self.base_url = normalize_base_url(base_url)
        self.settings = settings
        if settings.api_key is not None:
            logger.warning("params hold api_key, and params are saved in job.json and run.json; "
                           "put the key in an environment variable and name it with api_key_env instead")
        self.served_model = settings.model or weights
        policy = RetryPolicy(settings.max_retries, settings.backoff_s, settings.backoff_max_s)
        self._client = ChatClient(self.base_url, resolve_api_key(settings), settings.timeout_s, policy)
        if settings.check_endpoint:
            try:
                self._check_endpoint()
            except ModelLoadError:
                self._client.close()
                raise
        if not self.served_model:
            raise ModelLoadError(f"no model id for {self.base_url}",
                                 hint="set params model (the served model id)")
        self.max_batch_size = min(4 * settings.max_concurrency, 256)
        self._pool = ThreadPoolExecutor(settings.max_concurrency, thread_name_prefix="openai")
        # Outcomes of a batch that partly failed: the worker then resends its requests one by one,
        # and a paid API should not answer the successful ones twice.
        self._carry: dict[str, str | BaseException] = {}

    def _check_endpoint(self) -> None:
        """Fail at load time, with one clear line, when the endpoint is down or rejects the key."""
        try:
            status, body = self._client.get_json("/models")
        except EndpointError as exc:
            hint = f"start the server, or fix base_url / {BASE_URL_VARIABLE}"
            raise ModelLoadError(str(exc), hint=hint) from None
        if status in (401, 403):
            raise ModelLoadError(f"{self.base_url} rejected the API key (HTTP {status})",
                                 hint="set api_key_env to the variable holding a valid key")
        served = _listed_models(body) if status == 200 else []
        if not self.served_model and len(served) == 1:
            self.served_model = served[0]
        elif not self.served_model and served:
            raise ModelLoadError(f"{self.base_url} serves several models: {', '.join(served[:20])}",
                                 hint="set params model to one of them")
        elif served and self.served_model not in served:
            logger.warning("%s does not list model %r among %s",
                           self.base_url, self.served_model, served[:20])

    def payload(self, request: Request) -> dict[str, Any]:
        """The JSON body for one request."""
        return {
            **self.settings.extra_body,
            "model": self.served_model,
            "messages": to_messages(request, self.settings.image_format),
            self.settings.max_tokens_field: request.params.max_new_tokens,
            "temperature": request.params.temperature,
        }

    def _ask(self, payload: dict[str, Any]) -> str:
        body = self._client.post_json("/chat/completions", payload)
        try:
            return answer_text(body)
        except MessageError as exc:
            raise EndpointError(f"{self.base_url}/chat/completions: {exc}: {str(body)[:200]}") from None

    def generate(self, requests: Sequence[Request]) -> list[str]:
        # Encoding images is the slow part of a payload; zlib and JPEG release the GIL, so use the pool.
        payloads = list(self._pool.map(self.payload, requests))
        remember = len(payloads) > 1 or bool(self._carry)
        keys = [_fingerprint(p) if remember else "" for p in payloads]
        outcomes: list[str | BaseException | None] = [self._carry.pop(key, None) for key in keys]
        futures = {i: self._pool.submit(self._ask, payloads[i]) for i, o in enumerate(outcomes) if o is None}
        for index, future in futures.items():
            try:
                outcomes[index] = future.result()
            except Exception as exc:  # noqa: BLE001 - one failed request must not hide the others' answers
                outcomes[index] = exc
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        if not failures:
            return [str(o) for o in outcomes]
        if len(requests) == 1:
            raise failures[0]
        if len(self._carry) + len(keys) > CARRY_LIMIT:
            self._carry.clear()
        self._carry.update({key: o for key, o in zip(keys, outcomes, strict=True) if o is not None})
        first = failures[0]
        raise EndpointError(f"{len(failures)} of {len(requests)} requests failed; first: {first}",
                            attempts=getattr(first, "attempts", 1), status=getattr(first, "status", None))

    def close(self) -> None:
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        self._client.close()
