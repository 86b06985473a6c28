"""The pure ECS rules: the RunTask request as data, error classification, stopped-task diagnosis."""

from __future__ import annotations

import pytest

from poky_app.aws.ecs_requests import (
    EcsTarget,
    build_run_task_request,
    classify_client_error,
    classify_failures,
    client_token,
    exit_from_task,
    overrides_size,
)
from poky_app.errors import LaunchError

TARGET = EcsTarget(cluster="poky", task_definition="poky-runner", container_name="runner",
                   subnets=("subnet-1", "subnet-2"), security_groups=("sg-1",))
JOB_ID = "01M84XH2RQRR8WZX6DMW3GC252"


def request(**changes):  # type: ignore[no-untyped-def]
    args = {"job_id": JOB_ID, "attempt": 2, "command": ("python", "-m", "file_processing.runner"),
            "env": {"POKY_JOB_ID": JOB_ID, "POKY_ATTEMPT": "2", "POKY_SPEC": "{}"}, "cpu": 1024, "memory": 2048}
    return build_run_task_request(changes.pop("target", TARGET), **{**args, **changes})


def test_request_shape() -> None:
    built = request()
    assert built["cluster"] == "poky" and built["taskDefinition"] == "poky-runner" and built["count"] == 1
    assert built["launchType"] == "FARGATE" and "capacityProviderStrategy" not in built
    [container] = built["overrides"]["containerOverrides"]
    assert container["name"] == "runner"
    assert container["command"] == ["python", "-m", "file_processing.runner"]
    assert {"name": "POKY_ATTEMPT", "value": "2"} in container["environment"]
    assert (container["cpu"], container["memory"]) == (1024, 2048)
    assert (built["overrides"]["cpu"], built["overrides"]["memory"]) == ("1024", "2048")
    assert built["networkConfiguration"]["awsvpcConfiguration"] == {
        "subnets": ["subnet-1", "subnet-2"], "securityGroups": ["sg-1"], "assignPublicIp": "ENABLED"}
    assert built["clientToken"] == f"{JOB_ID}-2" and built["startedBy"] == JOB_ID
    assert {"key": "poky:job-id", "value": JOB_ID} in built["tags"]


def test_client_token_is_stable_per_attempt_and_within_limits() -> None:
    assert client_token(JOB_ID, 1) == client_token(JOB_ID, 1) != client_token(JOB_ID, 2)
    assert len(client_token(JOB_ID, 999)) <= 64


@pytest.mark.parametrize(("capacity", "expected"), [
    ("FARGATE_SPOT", [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]),
    ("FARGATE_SPOT_FIRST", [{"capacityProvider": "FARGATE_SPOT", "weight": 4},
                            {"capacityProvider": "FARGATE", "weight": 1}]),
])
def test_capacity_provider_strategies(capacity: str, expected: list) -> None:
    target = EcsTarget(**{**TARGET.__dict__, "capacity": capacity})
    built = request(target=target)
    assert built["capacityProviderStrategy"] == expected and "launchType" not in built


def test_overrides_over_the_limit_are_refused() -> None:
    with pytest.raises(LaunchError) as caught:
        request(env={"POKY_SPEC": "x" * 9000})
    assert caught.value.reason == "OverridesTooLarge" and not caught.value.retryable
    assert overrides_size(request()["overrides"]) < 8192


@pytest.mark.parametrize(("code", "message", "status", "retryable"), [
    ("ThrottlingException", "Rate exceeded", 400, True),
    ("InvalidParameterException", "Rate exceeded", 400, True),
    ("ServerException", "boom", 500, True),
    ("SomethingNew", "gateway", 503, True),
    ("AccessDeniedException", "not authorized to perform: iam:PassRole", 400, False),
    ("ClusterNotFoundException", "Cluster not found.", 400, False),
    ("InvalidParameterException", "TaskDefinition is inactive", 400, False),
])
def test_client_error_classification(code: str, message: str, status: int, retryable: bool) -> None:
    error = classify_client_error(code, message, status)
    assert error.retryable is retryable
    if not retryable:
        assert error.hint


@pytest.mark.parametrize(("failure", "retryable", "reason"), [
    ({"reason": "RESOURCE:MEMORY"}, True, "CapacityUnavailable"),
    ({"reason": "Capacity is unavailable at this time. Please try again later or in a different "
                "availability zone"}, True, "CapacityUnavailable"),
    ({"reason": "MISSING", "arn": "arn:cluster"}, False, "Missing"),
    ({"reason": "ATTRIBUTE"}, False, "LaunchRefused"),
])
def test_failures_classification(failure: dict, retryable: bool, reason: str) -> None:
    error = classify_failures([failure])
    assert (error.retryable, error.reason) == (retryable, reason)


def stopped(exit_code, stop_code="EssentialContainerExited", stopped_reason="", container_reason=""):  # type: ignore[no-untyped-def]
    return {"taskArn": "arn:task/1", "lastStatus": "STOPPED", "stopCode": stop_code, "stoppedReason": stopped_reason,
            "containers": [{"name": "runner", "exitCode": exit_code, "reason": container_reason}]}


@pytest.mark.parametrize(("task", "code", "reason"), [
    (stopped(0), 0, None),
    (stopped(1), 1, None),
    (stopped(137, container_reason="OutOfMemoryError: Container killed due to memory usage"), 137, "OutOfMemory"),
    (stopped(137), 137, "OutOfMemory"),
    (stopped(None, "TaskFailedToStart", "CannotPullContainerError: pull image manifest has been retried"),
     None, "CannotPullContainerError"),
    (stopped(None, "TaskFailedToStart", "ResourceInitializationError: unable to pull secrets"),
     None, "ResourceInitializationError"),
    (stopped(None, "SpotInterruption", "Your Spot Task was interrupted."), None, "SpotInterruption"),
    (stopped(143, "UserInitiated", "Task stopped by user"), 143, None),
    (stopped(None, "TaskFailedToStart", "Timeout waiting for network interface provisioning"),
     None, "TaskFailedToStart"),
])
def test_stopped_tasks_are_diagnosed(task: dict, code: int | None, reason: str | None) -> None:
    exit = exit_from_task(task, "runner")
    assert exit is not None and exit.exit_code == code
    assert (exit.failure.reason if exit.failure else None) == reason
    assert exit.details["task_arn"] == "arn:task/1" and exit.details["stop_code"] == task["stopCode"]


def test_running_tasks_have_not_exited() -> None:
    assert exit_from_task({"lastStatus": "RUNNING", "containers": []}, "runner") is None
