"""EventBridge "ECS Task State Change" events: how Fargate tells Poky a task has moved.

Delivery is at-least-once and possibly out of order, so an event is applied only if it is about
the job's current attempt's task and newer (detail.version) than the last one applied; the
job's guarded writes do the rest (a finished job never moves again).
"""

from __future__ import annotations

import logging
from typing import Any

from poky_app import jobs as machine
from poky_app.aws.ecs_requests import exit_from_task
from poky_app.jobs import LAUNCHED, JobStatus
from poky_app.service import JobService

log = logging.getLogger(__name__)

def handle_task_state_change(service: JobService, event: dict[str, Any], container_name: str) -> str:
    """Apply one event; returns what was done, for the log ("ignored: ..." when nothing was)."""
    detail = event.get("detail") or {}
    job_id, task_arn, version = detail.get("startedBy", ""), detail.get("taskArn", ""), detail.get("version")
    job = service.store.get(job_id) if job_id else None
    if job is None:
        return "ignored: not a Poky task"
    if job.status not in LAUNCHED or not job.launch or job.launch.get("task_arn") != task_arn:
        return "ignored: not the task of the job's current attempt"
    if not isinstance(version, int) or version <= job.launch.get("event_version", -1):
        return "ignored: stale or duplicate event"

    def remember(current):  # type: ignore[no-untyped-def]
        if current.attempt != job.attempt or current.status not in LAUNCHED or not current.launch:
            return None
        if version <= current.launch.get("event_version", -1):
            return None
        return machine.record_launch(current, {**current.launch, "event_version": version})

    service.update(job.id, remember)
    exit = exit_from_task(detail, container_name)
    if exit is not None:
        service.handle_exit(job.id, job.attempt, exit)
        return f"job {job.id}: task stopped"
    if detail.get("lastStatus") == "RUNNING" and job.status is JobStatus.STARTING:
        service.update(job.id, lambda j: machine.mark_running(j, service.now())
                       if j.attempt == job.attempt and j.status is JobStatus.STARTING else None)
        return f"job {job.id}: task running"
    return f"job {job.id}: task {detail.get('lastStatus', '?').lower()}"
