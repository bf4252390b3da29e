"""Retry timing, Retry-After parsing, server messages and secret scrubbing of the HTTP layer."""

import email.utils
import json
import time

import pytest
import requests

from vlmbench.models.openai_http import (
    RetryPolicy,
    parse_retry_after,
    redact,
    server_message,
)


def test_backoff_doubles_with_jitter_between_half_and_the_full_ceiling():
    policy = RetryPolicy(backoff_s=1.0, backoff_max_s=30.0)
    for retry, ceiling in [(0, 1.0), (1, 2.0), (2, 4.0), (3, 8.0), (6, 30.0), (20, 30.0)]:
        delays = [policy.delay(retry) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays), (retry, min(delays), max(delays))
        assert max(delays) - min(delays) > ceiling / 10  # jittered, not one fixed value


def test_retry_after_replaces_backoff_and_is_capped():
    policy = RetryPolicy(backoff_s=50.0, retry_after_max_s=10.0)
    assert policy.delay(0, retry_after=1.5) == 1.5
    assert policy.delay(3, retry_after=0.0) == 0.0
    assert policy.delay(0, retry_after=600) == 10.0
    assert policy.delay(0, retry_after=-4) == 0.0


def test_retry_after_in_seconds_milliseconds_and_http_dates():
    assert parse_retry_after({"Retry-After": "3"}) == 3.0
    assert parse_retry_after({"Retry-After": "0.5"}) == 0.5
    assert parse_retry_after({"retry-after-ms": "250", "Retry-After": "9"}) == 0.25
    soon = email.utils.formatdate(time.time() + 20, usegmt=True)
    assert 17 <= parse_retry_after({"Retry-After": soon}) <= 20
    past = email.utils.formatdate(time.time() - 100, usegmt=True)
    assert parse_retry_after({"Retry-After": past}) == 0.0
    assert parse_retry_after({}) is None
    assert parse_retry_after({"Retry-After": "whenever"}) is None


def response(status: int, body: object) -> requests.Response:
    made = requests.Response()
    made.status_code = status
    made.reason = "Reason"
    made._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return made


@pytest.mark.parametrize("body, expected", [
    ({"error": {"message": "Rate limit reached", "type": "rate_limit"}}, "Rate limit reached"),
    ({"object": "error", "message": "max_tokens is too large"}, "max_tokens is too large"),
    ({"detail": "Not Found"}, "Not Found"),
    ({"error": "plain error string"}, "plain error string"),
    (b"<html>502 Bad Gateway</html>", "<html>502 Bad Gateway</html>"),
    (b"", "Reason"),
])
def test_server_message_reads_openai_vllm_fastapi_and_plain_bodies(body, expected):
    assert server_message(response(400, body)) == expected


def test_server_message_is_bounded():
    assert len(server_message(response(500, b"x" * 10_000))) == 500


def test_redact_scrubs_every_occurrence_and_ignores_no_secret():
    assert redact("key sk-123 and again sk-123", "sk-123") == "key *** and again ***"
    assert redact("nothing here", None) == "nothing here"
