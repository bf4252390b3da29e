"""Params of the openai adapter: validation, the API key's sources, the base URL."""

import pytest

from vlmbench.errors import ModelLoadError
from vlmbench.models.openai_api import (
    OpenAICompatibleModel,
    OpenAIParams,
    normalize_base_url,
    resolve_api_key,
    validate_params,
)
from vlmbench.registry import resolve_model_class


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ("VLMBENCH_API_KEY", "OPENAI_API_KEY", "VLMBENCH_API_BASE", "MY_KEY"):
        monkeypatch.delenv(name, raising=False)


def test_registered_under_both_names():
    assert resolve_model_class("openai") is OpenAICompatibleModel
    assert resolve_model_class("openai-compatible") is OpenAICompatibleModel


def test_unknown_and_bad_params_are_all_listed_without_echoing_values():
    with pytest.raises(ModelLoadError) as caught:
        bad = {"max_concurency": 4, "timeout_s": -1, "api_key": ["sk-leak"]}
        validate_params(OpenAIParams, bad, "openai")
    message = str(caught.value)
    assert "max_concurency: unknown parameter" in message
    assert "timeout_s:" in message and "api_key:" in message
    assert "sk-leak" not in message
    assert "max_concurrency" in message  # the hint lists the known names


def test_the_key_never_shows_in_the_settings_repr():
    settings = OpenAIParams(api_key="sk-abc123")
    assert "sk-abc123" not in repr(settings) and "sk-abc123" not in str(settings.model_dump())


def test_key_sources_in_order(monkeypatch):
    assert resolve_api_key(OpenAIParams()) is None
    monkeypatch.setenv("OPENAI_API_KEY", "from-openai")
    assert resolve_api_key(OpenAIParams()) == "from-openai"
    monkeypatch.setenv("VLMBENCH_API_KEY", "from-vlmbench")
    assert resolve_api_key(OpenAIParams()) == "from-vlmbench"
    monkeypatch.setenv("MY_KEY", "from-named")
    assert resolve_api_key(OpenAIParams(api_key_env="MY_KEY")) == "from-named"
    assert resolve_api_key(OpenAIParams(api_key="explicit", api_key_env="MY_KEY")) == "explicit"
    assert resolve_api_key(OpenAIParams(api_key="explicit", anonymous=True)) is None


def test_a_named_key_variable_that_is_unset_is_an_error_naming_it():
    with pytest.raises(ModelLoadError, match="MY_KEY"):
        resolve_api_key(OpenAIParams(api_key_env="MY_KEY"))


@pytest.mark.parametrize("given, expected", [
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000/v1"),
    ("http://127.0.0.1:8000/", "http://127.0.0.1:8000/v1"),
    ("http://127.0.0.1:8000/v1/", "http://127.0.0.1:8000/v1"),
    ("https://api.example.com/openai/v2", "https://api.example.com/openai/v2"),
])
def test_base_url_normalization(given, expected):
    assert normalize_base_url(given) == expected


def test_base_url_must_be_http():
    with pytest.raises(ModelLoadError, match="not an http"):
        normalize_base_url("127.0.0.1:8000")


def test_no_base_url_anywhere_is_an_error_with_both_remedies():
    with pytest.raises(ModelLoadError) as caught:
        OpenAICompatibleModel("some/model")
    assert "base_url" in str(caught.value) and "VLMBENCH_API_BASE" in str(caught.value)


def test_base_url_and_model_default_from_environment_and_weights(monkeypatch):
    monkeypatch.setenv("VLMBENCH_API_BASE", "http://127.0.0.1:1234")
    model = OpenAICompatibleModel("org/served-model", check_endpoint=False, max_concurrency=3)
    try:
        assert model.base_url == "http://127.0.0.1:1234/v1"
        assert model.served_model == "org/served-model"
        assert model.max_batch_size == 12
    finally:
        model.close()


def test_payload_maps_generation_params_and_extra_body():
    from vlmbench.models.base import GenerationParams, Request

    model = OpenAICompatibleModel(None, base_url="http://127.0.0.1:1", model="m", check_endpoint=False,
                                  max_tokens_field="max_completion_tokens",
                                  extra_body={"top_p": 0.9, "temperature": 1.5})
    try:
        params = GenerationParams(max_new_tokens=7, temperature=0.2)
        payload = model.payload(Request(prompt="hi", params=params))
    finally:
        model.close()
    assert payload["max_completion_tokens"] == 7 and "max_tokens" not in payload
    assert payload["temperature"] == 0.2  # the run's temperature wins over extra_body
    assert payload["top_p"] == 0.9 and payload["model"] == "m"
