"""ECS knowledge as pure functions: the RunTask request for a job, what a launch error means, and
what a stopped task says about how the job ended. No boto3 here: plain dicts in and out, so every
rule is unit-tested as data (the chalice planner/executor split).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from poky_app.errors import LaunchError
from poky_app.jobs import ContainerExit, Failure

OVERRIDES_LIMIT = 8192  # ECS: all of a RunTask's overrides together, as JSON characters
CLIENT_TOKEN_LIMIT = 64
STARTED_BY_LIMIT = 36


@dataclass(frozen=True)
class EcsTarget:
    """Where and how tasks run: from settings, written by `poky bootstrap`."""

    cluster: str
    task_definition: str
    container_name: str
    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]
    assign_public_ip: bool = True
    capacity: str = "FARGATE"


def client_token(job_id: str, attempt: int) -> str:
    """The same for every retry of one attempt's launch, so ECS starts it at most once."""
    token = f"{job_id}-{attempt}"
    assert len(token) <= CLIENT_TOKEN_LIMIT and token.isascii()
    return token


def _capacity(capacity: str) -> dict[str, Any]:
    if capacity == "FARGATE":
        return {"launchType": "FARGATE"}
    if capacity == "FARGATE_SPOT":
        return {"capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]}
    # Spot first, with a base of on-demand 0: cheaper, and ECS falls back when Spot is short.
    return {"capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 4},
                                         {"capacityProvider": "FARGATE", "weight": 1}]}


def overrides_size(overrides: dict[str, Any]) -> int:
    return len(json.dumps(overrides, separators=(",", ":")))


def build_run_task_request(target: EcsTarget, *, job_id: str, attempt: int, command: tuple[str, ...],
                           env: dict[str, str], cpu: int, memory: int) -> dict[str, Any]:
    """The RunTask call for one attempt. Raises LaunchError if the overrides cannot fit."""
    container = {
        "name": target.container_name,
        "command": list(command),
        "environment": [{"name": k, "value": v} for k, v in sorted(env.items())],
        "cpu": cpu,
        "memory": memory,
    }
    overrides = {"containerOverrides": [container], "cpu": str(cpu), "memory": str(memory)}
    if overrides_size(overrides) > OVERRIDES_LIMIT:
        raise LaunchError(f"the container overrides are {overrides_size(overrides)} characters; "
                          f"ECS allows {OVERRIDES_LIMIT}", reason="OverridesTooLarge",
                          hint="Shorten the task's command or environment.")
    return {
        "cluster": target.cluster,
        "taskDefinition": target.task_definition,
        "count": 1,
        **_capacity(target.capacity),
        "networkConfiguration": {"awsvpcConfiguration": {
            "subnets": list(target.subnets),
            "securityGroups": list(target.security_groups),
            "assignPublicIp": "ENABLED" if target.assign_public_ip else "DISABLED",
        }},
        "overrides": overrides,
        "clientToken": client_token(job_id, attempt),
        "startedBy": job_id[:STARTED_BY_LIMIT],
        "tags": [{"key": "poky:job-id", "value": job_id}, {"key": "poky:attempt", "value": str(attempt)}],
        "propagateTags": "TASK_DEFINITION",
        "enableECSManagedTags": True,
    }


# -- launch errors ------------------------------------------------------------------------

_RETRYABLE_CODES = {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded",
                    "ServerException", "ServiceUnavailableException", "InternalFailure", "ServiceUnavailable"}
_PERMANENT_HINTS = {
    "AccessDeniedException": "The control plane's role may not call ecs:RunTask or iam:PassRole: "
                             "see `poky iam-policy`.",
    "ClusterNotFoundException": "Run `poky bootstrap` or fix POKY_CLUSTER.",
    "InvalidParameterException": "Check POKY_TASK_DEFINITION, POKY_SUBNETS and POKY_SECURITY_GROUPS "
                                 "(`poky bootstrap` writes them).",
    "PlatformUnknownException": "Check the task definition's platform version.",
    "UnsupportedFeatureException": "The region may not offer this Fargate feature.",
}


def classify_client_error(code: str, message: str, http_status: int = 400) -> LaunchError:
    """A RunTask ClientError as a LaunchError: retryable, or permanent with a hint."""
    if code in _RETRYABLE_CODES or http_status >= 500 or "Rate exceeded" in message:
        return LaunchError(f"{code}: {message}", reason="Throttled" if "hrottl" in code or "Rate" in message
                           else "ServiceError", hint="ECS is busy; Poky retries the launch.", retryable=True)
    return LaunchError(f"{code}: {message}", reason=code.removesuffix("Exception") or "LaunchFailed",
                       hint=_PERMANENT_HINTS.get(code, "Check the ECS settings written by `poky bootstrap`."))


def classify_failures(failures: list[dict[str, Any]]) -> LaunchError:
    """RunTask's ``failures[]`` (they arrive with HTTP 200) as a LaunchError."""
    first = failures[0]
    reason, detail = first.get("reason", "UNKNOWN"), first.get("detail", "")
    text = f"{reason}{': ' + detail if detail else ''}"
    if reason.startswith("RESOURCE:") or "Capacity is unavailable" in text or reason == "AGENT":
        return LaunchError(f"ECS could not place the task: {text}", reason="CapacityUnavailable",
                           hint="Fargate is short of capacity; Poky retries the launch.", retryable=True)
    if reason == "MISSING":
        return LaunchError(f"ECS: {text}", reason="Missing",
                           hint="The cluster or task definition is gone: run `poky bootstrap`.")
    return LaunchError(f"ECS refused the task: {text}", reason="LaunchRefused",
                       hint="Check the task definition and network settings.")


# -- how a task ended -----------------------------------------------------------------------

def exit_from_task(task: dict[str, Any], container_name: str) -> ContainerExit | None:
    """None while the task has not stopped; otherwise its exit, diagnosed from the stop code."""
    if task.get("lastStatus") != "STOPPED":
        return None
    container = next((c for c in task.get("containers", []) if c.get("name") == container_name),
                     (task.get("containers") or [{}])[0])
    code = container.get("exitCode")
    stop_code = task.get("stopCode", "")
    stopped_reason = task.get("stoppedReason", "")
    container_reason = container.get("reason", "")
    details = {"task_arn": task.get("taskArn"), "stop_code": stop_code, "stopped_reason": stopped_reason,
               "container_reason": container_reason, "capacity": task.get("capacityProviderName", "")}
    failure = _diagnose(code, stop_code, stopped_reason, container_reason)
    return ContainerExit(code, stopped_reason or container_reason, failure, details)


def _diagnose(code: int | None, stop_code: str, stopped_reason: str, container_reason: str) -> Failure | None:
    text = f"{stopped_reason} {container_reason}"
    if "CannotPullContainerError" in text:
        return Failure("CannotPullContainerError", f"Fargate could not pull the image: {text.strip()}",
                       "Check the image URI in the task definition and that the execution role may pull it.")
    if "ResourceInitializationError" in text:
        return Failure("ResourceInitializationError", f"Fargate could not prepare the task: {text.strip()}",
                       "Usually networking: the subnet needs a route to ECR and S3 (public IP or NAT/endpoints).")
    if stop_code == "SpotInterruption" or "SpotInterruption" in text:
        return Failure("SpotInterruption", "Fargate Spot reclaimed the capacity the task ran on.",
                       "Submit again, or use POKY_CAPACITY=FARGATE for jobs that must not be interrupted.")
    if code == 137 or "OutOfMemory" in text:
        return Failure("OutOfMemory", f"The container was killed (exit {code}): {text.strip() or 'SIGKILL'}",
                       "Raise memory for the task type in config/tasks.json, or process less at once.")
    if stop_code == "TaskFailedToStart":
        return Failure("TaskFailedToStart", f"The task failed to start: {text.strip()}",
                       "Read the stopped reason; check the image, roles and network settings.")
    if stop_code == "UserInitiated" and code is None:
        return Failure("Stopped", f"The task was stopped: {stopped_reason}", "")
    if code is None:
        return Failure("ContainerLost", f"The task stopped without an exit code: {text.strip()}", "")
    return None
