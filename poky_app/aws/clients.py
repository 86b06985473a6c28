"""boto3 clients, created on first use and shared: nothing touches the network or builds a client
at import time (the Lambda cold path). AWS_ENDPOINT_URL, honoured by boto3 itself, points every
client at another endpoint (a moto server in the end-to-end tests)."""

from __future__ import annotations

import threading
from typing import Any

RETRIES = {"mode": "standard", "max_attempts": 4}


class AwsClients:
    def __init__(self, region: str) -> None:
        self.region = region
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, service: str) -> Any:
        with self._lock:  # boto3 sessions are not thread-safe to create clients from
            if service not in self._clients:
                import boto3
                from botocore.config import Config

                session = boto3.session.Session(region_name=self.region)
                self._clients[service] = session.client(service, config=Config(retries=RETRIES))
            return self._clients[service]

    @property
    def ecs(self) -> Any:
        return self.get("ecs")

    @property
    def s3(self) -> Any:
        return self.get("s3")

    @property
    def dynamodb(self) -> Any:
        return self.get("dynamodb")

    @property
    def logs(self) -> Any:
        return self.get("logs")


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError ('' for anything else)."""
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def http_status(exc: BaseException) -> int:
    response = getattr(exc, "response", None) or {}
    return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
