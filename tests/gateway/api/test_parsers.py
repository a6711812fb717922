"""Malformed and absurdly nested JSON is a 400 `malformed_json` naming the problem, never a 500."""

from __future__ import annotations

import json
import time

import pytest
from rest_framework.test import APIClient

from gateway.api.parsers import MAX_JSON_DEPTH, json_depth_exceeds
from gateway.models import AuditEntry

pytestmark = pytest.mark.django_db


def _post(client: APIClient, raw: str) -> dict[str, object]:
    response = client.post("/api/releases/", data=raw, content_type="application/json")
    assert response.status_code == 400, response.content[:200]
    body: dict[str, object] = response.json()
    assert body["request_id"] == response["X-Request-ID"]
    return body


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 100_000 + "1" + "}" * 100_000,
        "[" * 100_000,  # unterminated as well
        '{"booking_numbers": ' + "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1) + "}",
    ],
)
def test_deeply_nested_json_is_a_400_naming_the_nesting(vendor: APIClient, raw: str) -> None:
    body = _post(vendor, raw)
    assert body["code"] == "malformed_json"
    assert f"deeper than {MAX_JSON_DEPTH} levels" in str(body["message"])
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("raw", ['{"purpose": ', "{'purpose': 1}", "[1, 2,]", '{"a": NaN}'])
def test_malformed_json_is_a_400_malformed_json(vendor: APIClient, raw: str) -> None:
    body = _post(vendor, raw)
    assert body["code"] == "malformed_json"
    assert str(body["message"]).startswith("JSON parse error")


def test_a_body_that_is_not_utf8_is_malformed_json(vendor: APIClient) -> None:
    response = vendor.post(
        "/api/releases/", data=b'{"purpose": "\xff"}', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"


def test_brackets_inside_strings_do_not_count(vendor: APIClient) -> None:
    """A narrative full of brackets is text, not nesting: the request reaches validation."""
    raw = json.dumps({"narrative": "[{" * 5_000 + '\\"' + "]}" * 10, "on_behalf_of": None})
    body = _post(vendor, raw)
    assert body["code"] == "invalid"
    assert "booking_numbers" in body["extra"]["fields"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "limit", "exceeds"),
    [
        ("[]", 1, False),
        ("[[]]", 1, True),
        ("[" * 32 + "]" * 32, 32, False),
        ("[" * 33 + "]" * 33, 32, True),
        ('["[[[[[["]', 2, False),
        (r'["\"[[[["]', 2, False),  # an escaped quote does not end the string
        (r'["\\", [[[]]]]', 2, True),  # an escaped backslash does: what follows is structure
        ('{"a": {"b": {"c": 1}}}', 3, False),
        ('{"a": {"b": {"c": {}}}}', 3, True),
        ("", 0, False),
    ],
)
def test_json_depth_exceeds(text: str, limit: int, exceeds: bool) -> None:
    assert json_depth_exceeds(text, limit=limit) is exceeds


def test_the_depth_scan_is_linear_on_hostile_input() -> None:
    """Many escaped quotes (quadratic for a naive string regex) and many shallow arrays."""
    started = time.monotonic()
    assert not json_depth_exceeds('"' + '\\"' * 1_000_000 + '"', limit=1)
    assert not json_depth_exceeds("[" + "[]," * 300_000 + "[]]", limit=2)
    assert time.monotonic() - started < 5


def test_a_body_over_the_upload_limit_is_a_413_naming_the_limit(
    vendor: APIClient, settings
) -> None:
    """Django refuses it (DATA_UPLOAD_MAX_MEMORY_SIZE); it was a bare 400 that did not say why."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    raw = json.dumps({"on_behalf_of": None, "narrative": "x" * 1_000})
    response = vendor.post("/api/releases/", data=raw, content_type="application/json")
    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "request_too_large"
    assert "1000 bytes" in body["message"]
    assert body["request_id"] == response["X-Request-ID"]
    small = vendor.post("/api/releases/", data=raw[:900] + '"}', content_type="application/json")
    assert small.status_code == 400  # under the limit: parsed, then validated
