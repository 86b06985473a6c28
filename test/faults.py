"""Fault injection for the AWS adapters, through botocore's own event hooks on the real clients.

At a chosen rate, a call is answered before it leaves (as AWS would answer) with one of:
  throttling      ThrottlingException "Rate exceeded"
  rate_exceeded   InvalidParameterException "Rate exceeded" (ECS's other way of saying it)
  capacity        RunTask only: HTTP 200 with failures[] "Capacity is unavailable at this time"
  server_error    HTTP 500 ServerException
  connection      no connection at all (EndpointConnectionError)
or, after it was carried out, its answer is lost:
  lost_response   RunTask only: the task started, the caller sees a read timeout
Seeded, so a run can be repeated. ``counts`` says what was injected. Used by the tests and by
bench/reliability.py; the kill helpers stop a control plane or a container at a chosen moment.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
from collections import Counter
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

FAULTS = ("throttling", "rate_exceeded", "capacity", "server_error", "connection", "lost_response")
_RUN_TASK_ONLY = {"capacity", "lost_response"}


def _error(status: int, code: str, message: str) -> tuple[AWSResponse, dict[str, Any]]:
    http = AWSResponse("https://injected.invalid/", status, {}, None)
    return http, {"Error": {"Code": code, "Message": message},
                  "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}}}


class FaultInjector:
    def __init__(self, rate: float, *, seed: int = 7, faults: tuple[str, ...] = FAULTS,
                 services: tuple[str, ...] = ("ecs",)) -> None:
        self.rate = rate
        self.faults = faults
        self.services = services
        self.random = random.Random(seed)
        self.counts: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()

    def attach(self, clients: Any) -> FaultInjector:
        """Hook every client of ``clients`` (an AwsClients) for the chosen services."""
        for service in self.services:
            events = clients.get(service).meta.events
            events.register(f"before-call.{service}", self._before)
            events.register(f"after-call.{service}", self._after)
        return self

    def _pick(self, operation: str, when: str) -> str | None:
        if self.random.random() >= self.rate:
            return None
        choices = [f for f in self.faults if (f in _RUN_TASK_ONLY) <= (operation == "RunTask")]
        choices = [f for f in choices if (f == "lost_response") == (when == "after")]
        return self.random.choice(choices) if choices else None

    def _before(self, model: Any, **_: Any) -> Any:
        self.calls[model.name] += 1
        fault = self._pick(model.name, "before")
        if fault is None:
            return None
        self.counts[fault] += 1
        if fault == "throttling":
            return _error(400, "ThrottlingException", "Rate exceeded")
        if fault == "rate_exceeded":
            return _error(400, "InvalidParameterException", "Rate exceeded")
        if fault == "server_error":
            return _error(500, "ServerException", "Service unavailable (injected)")
        if fault == "connection":
            raise EndpointConnectionError(endpoint_url="https://ecs.injected.invalid")
        # capacity: a 200 whose failures[] says Fargate has no room
        http = AWSResponse("https://injected.invalid/", 200, {}, None)
        return http, {"tasks": [], "failures": [{"reason": "Capacity is unavailable at this time. Please try "
                                                           "again later or in a different availability zone"}],
                      "ResponseMetadata": {"HTTPStatusCode": 200}}

    def _after(self, model: Any, **_: Any) -> None:
        if self._pick(model.name, "after") == "lost_response":
            self.counts["lost_response"] += 1
            raise ReadTimeoutError(endpoint_url="https://ecs.injected.invalid")


def kill(pid: int, *, group: bool = False) -> None:
    """SIGKILL a control plane (its pid) or a container (its process group), if still there."""
    with contextlib.suppress(ProcessLookupError):
        (os.killpg if group else os.kill)(pid, signal.SIGKILL)
