"""Runs each job attempt as an ECS Fargate task; reads its log from CloudWatch.

The decisions (the request, what an error or a stopped task means) live in ecs_requests.py; this
class only performs the calls. Launches are made at most once per attempt: before RunTask it looks
for a task already started for that attempt (moto ignores clientToken, and a control plane that
died mid-launch must adopt, not duplicate), and the clientToken covers retries within 24 h.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from poky_app.aws.clients import AwsClients, error_code, http_status
from poky_app.aws.ecs_requests import (
    EcsTarget,
    build_run_task_request,
    classify_client_error,
    classify_failures,
    exit_from_task,
)
from poky_app.catalog import TaskType
from poky_app.errors import BadRequest, LaunchError
from poky_app.jobs import ContainerExit, Job, launch_errors
from poky_app.ports import ExitListener

log = logging.getLogger(__name__)

DESCRIBE_BATCH = 100  # DescribeTasks takes at most 100 tasks
_LOG_THROTTLES = {"ThrottlingException", "TooManyRequestsException", "Throttling"}


class EcsLauncher:
    def __init__(self, clients: AwsClients, target: EcsTarget, log_group: str, log_stream_prefix: str,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.clients = clients
        self.target = target
        self.log_group = log_group
        self.log_stream_prefix = log_stream_prefix
        self._sleep = sleep

    def on_exit(self, listener: ExitListener) -> None:
        """ECS reports exits through EventBridge events and DescribeTasks, not callbacks."""

    def launch(self, job: Job, task: TaskType, env: dict[str, str]) -> dict[str, Any]:
        request = build_run_task_request(self.target, job_id=job.id, attempt=job.attempt, command=task.command,
                                         env=env, cpu=task.cpu, memory=task.memory)
        try:
            # After a failed try, that try may have started a task all the same (a lost response):
            # look for it before starting another. A first try has nothing to find.
            existing = self.find(job.id, job.attempt) if launch_errors(job) else None
            if existing is not None:
                log.info("job %s attempt %d already has task %s; adopting it", job.id, job.attempt,
                         existing["task_arn"])
                return existing
            response = self.clients.ecs.run_task(**request)
        except Exception as exc:
            raise _launch_error(exc) from None
        if response.get("failures"):
            raise classify_failures(response["failures"])
        return self._handle(response["tasks"][0]["taskArn"])

    def _handle(self, task_arn: str) -> dict[str, Any]:
        return {"kind": "ecs", "cluster": self.target.cluster, "task_arn": task_arn}

    def describe(self, handles: list[dict[str, Any]]) -> list[ContainerExit | None]:
        """One DescribeTasks call per 100 tasks; a task ECS no longer knows counts as ended, unseen.
        A batch whose call fails is "no news" this time (None), not a reason to stall the rest."""
        tasks: dict[str, dict[str, Any]] = {}
        unanswered: set[str] = set()
        arns = [h["task_arn"] for h in handles]
        for start in range(0, len(arns), DESCRIBE_BATCH):
            batch = arns[start:start + DESCRIBE_BATCH]
            try:
                response = self.clients.ecs.describe_tasks(cluster=self.target.cluster, tasks=batch)
            except Exception as exc:
                log.warning("DescribeTasks failed for %d tasks (asked again next pass): %s", len(batch), exc)
                unanswered.update(batch)
                continue
            tasks.update({t["taskArn"]: t for t in response.get("tasks", [])})
        exits: list[ContainerExit | None] = []
        for arn in arns:
            if arn in unanswered:
                exits.append(None)
            elif arn in tasks:
                exits.append(exit_from_task(tasks[arn], self.target.container_name))
            else:
                exits.append(ContainerExit(None, "ECS no longer knows the task (stopped tasks are kept ~1 hour)",
                                           details={"task_arn": arn}))
        return exits

    def find(self, job_id: str, attempt: int) -> dict[str, Any] | None:
        arns: list[str] = []
        for desired in ("RUNNING", "STOPPED"):
            pages = self.clients.ecs.get_paginator("list_tasks").paginate(
                cluster=self.target.cluster, startedBy=job_id, desiredStatus=desired)
            arns.extend(arn for page in pages for arn in page.get("taskArns", []))
        for start in range(0, len(arns), DESCRIBE_BATCH):
            response = self.clients.ecs.describe_tasks(cluster=self.target.cluster,
                                                       tasks=arns[start:start + DESCRIBE_BATCH], include=["TAGS"])
            for task in response.get("tasks", []):
                if _attempt_of(task) == attempt:
                    return self._handle(task["taskArn"])
        return None

    def stop(self, handle: dict[str, Any], *, force: bool) -> None:
        # Fargate itself sends SIGTERM, then SIGKILL after the container's stopTimeout: force is moot.
        try:
            self.clients.ecs.stop_task(cluster=handle["cluster"], task=handle["task_arn"],
                                       reason="Stopped by Poky (cancel or timeout)")
        except Exception as exc:  # an unknown or already stopped task: nothing left to stop
            log.info("stop_task %s: %s", handle["task_arn"], exc)

    def log_stream(self, task_arn: str) -> str:
        """The awslogs driver's stream name: <prefix>/<container>/<task id>."""
        return f"{self.log_stream_prefix}/{self.target.container_name}/{task_arn.rsplit('/', 1)[-1]}"

    def read_logs(self, job: Job, cursor: str | None, limit: int, *, final: bool = False) -> tuple[list[str], str]:
        """The current attempt's lines; the cursor is CloudWatch's forward token."""
        if not job.launch:
            return [], cursor or ""
        request: dict[str, Any] = {"logGroupName": self.log_group, "logStreamName": self.log_stream(
            job.launch["task_arn"]), "startFromHead": True, "limit": limit}
        if cursor:
            if not cursor.startswith("f/"):
                raise BadRequest("cursor is not one this server gave out")
            request["nextToken"] = cursor
        for attempt in range(5):
            try:
                response = self.clients.logs.get_log_events(**request)
                break
            except Exception as exc:
                code = error_code(exc)
                if code == "ResourceNotFoundException":
                    return [], cursor or ""  # the container has not written yet
                if code not in _LOG_THROTTLES or attempt == 4:
                    raise
                self._sleep(0.2 * 2**attempt)  # CloudWatch Logs allows few reads per second
        lines = [event["message"].rstrip("\n") for event in response.get("events", [])]
        return lines, response.get("nextForwardToken") or cursor or ""


def _launch_error(exc: Exception) -> LaunchError:
    code = error_code(exc)
    if not code:  # no answer at all (connection refused, timeout): worth another try
        return classify_client_error("ConnectionError", str(exc), 503)
    message = getattr(exc, "response", {}).get("Error", {}).get("Message", str(exc))
    return classify_client_error(code, message, http_status(exc))


def _attempt_of(task: dict[str, Any]) -> int | None:
    for tag in task.get("tags", []):
        if tag.get("key") == "poky:attempt":
            return int(tag["value"])
    for container in task.get("overrides", {}).get("containerOverrides", []):
        for variable in container.get("environment", []):
            if variable.get("name") == "POKY_ATTEMPT":
                return int(variable["value"])
    return None
