"""The CLI's HTTP client: AWS request signing for deployed stages (API Gateway IAM authorization)."""

from __future__ import annotations

import pytest
import requests

from poky_app.cli.client import api_auth

STAGE = "https://abc123defg.execute-api.eu-west-1.amazonaws.com"


def prepared(url: str, auth) -> requests.PreparedRequest:  # type: ignore[no-untyped-def]
    return requests.Request("POST", url, json={"task": "sleep"}, auth=auth).prepare()


def test_requests_to_a_deployed_stage_are_signed_for_execute_api() -> None:
    auth = api_auth(STAGE)
    assert auth is not None and auth.region == "eu-west-1"
    request = prepared(STAGE + "/jobs", auth)
    assert request.headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=testing/")
    assert "/eu-west-1/execute-api/aws4_request" in request.headers["Authorization"]
    assert "X-Amz-Date" in request.headers and request.headers["X-Amz-Security-Token"] == "testing"


def test_local_servers_are_not_signed_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert api_auth("http://127.0.0.1:8000") is None
    monkeypatch.setenv("POKY_SIGN", "aws")
    monkeypatch.setenv("AWS_REGION", "us-east-2")
    assert api_auth("https://poky.example.com").region == "us-east-2"
    monkeypatch.setenv("POKY_SIGN", "none")
    assert api_auth(STAGE) is None
