"""A small HTTP client of the Poky API: what every CLI command (but serve) goes through."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import requests
import requests.auth

DEFAULT_URL = "http://127.0.0.1:8000"
TIMEOUT_SECONDS = 30
LONG_POLL_SECONDS = 15  # below the server's 20 s cap and this client's 30 s timeout


class ApiError(Exception):
    """The server answered with a problem, or could not be reached. ``str`` is for humans."""

    def __init__(self, message: str, errors: list[dict[str, str]] | None = None, status: int = 0) -> None:
        super().__init__(message)
        self.errors = errors or []
        self.status = status


class _ProgressReader:
    """A file wrapper that reports bytes read, and has a length so requests sends Content-Length."""

    def __init__(self, handle: BinaryIO, size: int, on_read: Callable[[int], None]) -> None:
        self._handle, self._size, self._on_read = handle, size, on_read

    def __len__(self) -> int:
        return self._size

    def read(self, size: int = -1) -> bytes:
        chunk = self._handle.read(size)
        self._on_read(len(chunk))
        return chunk


_EXECUTE_API = re.compile(r"^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$")


class AwsSigV4(requests.auth.AuthBase):
    """Signs a request for API Gateway's IAM authorization with the caller's AWS credentials."""

    def __init__(self, region: str) -> None:
        import boto3

        credentials = boto3.session.Session().get_credentials()
        if credentials is None:
            raise ApiError("this Poky API requires AWS-signed requests, and no AWS credentials were found")
        self.credentials = credentials
        self.region = region

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        signed = AWSRequest(method=request.method, url=request.url, data=request.body or b"",
                            headers={k: v for k, v in request.headers.items() if k.lower() != "connection"})
        SigV4Auth(self.credentials.get_frozen_credentials(), "execute-api", self.region).add_auth(signed)
        request.headers.update(dict(signed.headers))
        return request


def api_auth(base_url: str) -> AwsSigV4 | None:
    """AWS signing for a deployed stage (an execute-api host, or POKY_SIGN=aws with AWS_REGION)."""
    host = urlsplit(base_url).hostname or ""
    match = _EXECUTE_API.match(host)
    choice = os.environ.get("POKY_SIGN", "").lower()
    if choice == "none" or (not match and choice != "aws"):
        return None
    region = match.group(1) if match else os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise ApiError("POKY_SIGN=aws needs AWS_REGION")
    return AwsSigV4(region)


class PokyClient:
    def __init__(self, base_url: str | None = None, session: requests.Session | None = None) -> None:
        self.base_url = (base_url or os.environ.get("POKY_URL") or DEFAULT_URL).rstrip("/")
        self.session = session or requests.Session()
        self._auth: AwsSigV4 | bool | None = False  # decided on the first call

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        ours = not path.startswith("http")  # transfer URLs are presigned: never sign them again
        url = self.base_url + path if ours else path
        if ours:
            if self._auth is False:
                self._auth = api_auth(self.base_url)
            kwargs.setdefault("auth", self._auth)
        try:
            response = self.session.request(method, url, timeout=TIMEOUT_SECONDS, **kwargs)
        except requests.ConnectionError:
            raise ApiError(f"cannot reach Poky at {self.base_url}: is `poky serve` running? "
                           "(POKY_URL picks the server)") from None
        except requests.Timeout:
            raise ApiError(f"Poky at {self.base_url} did not answer within {TIMEOUT_SECONDS}s") from None
        if response.status_code >= 400:
            raise _problem(response)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._call(method, path, **kwargs).json()

    def openapi(self) -> dict[str, Any]:
        return self._json("GET", "/openapi.json")

    def tasks(self) -> list[dict[str, Any]]:
        return self._json("GET", "/tasks")["tasks"]

    def submit(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._json("POST", "/jobs", json=body)

    def job(self, job_id: str) -> dict[str, Any]:
        return self._json("GET", f"/jobs/{job_id}")

    def watch(self, job_id: str, etag: str | None, wait: float = LONG_POLL_SECONDS) -> tuple[dict[str, Any], str]:
        """The job as soon as it differs from the version ``etag`` names (a long-poll), and its new etag."""
        headers = {"If-None-Match": etag} if etag else {}
        response = self._call("GET", f"/jobs/{job_id}", params={"wait": wait}, headers=headers)
        return response.json(), response.headers.get("ETag", "")

    def jobs(self, **query: Any) -> dict[str, Any]:
        return self._json("GET", "/jobs", params={k: v for k, v in query.items() if v is not None})

    def cancel(self, job_id: str) -> dict[str, Any]:
        return self._json("POST", f"/jobs/{job_id}/cancel")

    def logs(self, job_id: str, cursor: str | None) -> dict[str, Any]:
        return self._json("GET", f"/jobs/{job_id}/logs", params={"cursor": cursor} if cursor else None)

    def upload(self, path: Path, uri: str, on_progress: Callable[[int], None] = lambda n: None) -> dict:
        ticket = self._json("POST", "/uploads", json={"uri": uri})
        with path.open("rb") as handle:
            body = _ProgressReader(handle, path.stat().st_size, on_progress)
            response = self._call(ticket["method"], ticket["url"], data=body, headers=ticket["headers"])
        return response.json() if response.content else {"uri": uri}

    def download(self, uri: str) -> tuple[int | None, Iterator[bytes]]:
        """The object's size (if known) and its bytes, streamed."""
        ticket = self._json("POST", "/downloads", json={"uri": uri})
        response = self._call(ticket["method"], ticket["url"], headers=ticket["headers"], stream=True)
        size = response.headers.get("Content-Length")
        return (int(size) if size else None), response.iter_content(1 << 20)


def _problem(response: requests.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        return ApiError(f"HTTP {response.status_code}: {response.text[:200]}", status=response.status_code)
    detail = body.get("detail") or body.get("title") or response.reason
    return ApiError(detail, body.get("errors") or [], status=response.status_code)
