"""The job and its state machine: every status change Poky makes is decided here, and only here.

Pure functions over immutable records: no I/O, no clock (callers pass ``now``). Stores persist the
result with a guarded write (expected version, hence expected status and attempt), so a stale or
duplicated event can never move a job backwards or overwrite a newer attempt.

    queued -> starting -> running -> succeeded | failed | cancelled | timed_out
"""

from __future__ import annotations

import base64
import os
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from poky_app.errors import BadRequest, InvalidTransition


class JobStatus(StrEnum):
    QUEUED = "queued"
    STARTING = "starting"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.TIMED_OUT})
ACTIVE = frozenset(JobStatus) - TERMINAL
# A container exists (or may exist) for the current attempt.
LAUNCHED = frozenset({JobStatus.STARTING, JobStatus.RUNNING})

_ALLOWED: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset({JobStatus.STARTING, JobStatus.FAILED, JobStatus.CANCELLED}),
    # -> QUEUED: the attempt failed and the retry policy gives the job another one.
    JobStatus.STARTING: frozenset({JobStatus.RUNNING, JobStatus.QUEUED}) | TERMINAL,
    JobStatus.RUNNING: frozenset({JobStatus.QUEUED}) | TERMINAL,
    # POST /jobs/<id>/retry: a job that did not succeed may run again, as a new attempt.
    JobStatus.FAILED: frozenset({JobStatus.QUEUED}),
    JobStatus.CANCELLED: frozenset({JobStatus.QUEUED}),
    JobStatus.TIMED_OUT: frozenset({JobStatus.QUEUED}),
}

STOP_CANCEL = "cancel"
STOP_TIMEOUT = "timeout"
STOP_START_DEADLINE = "start_deadline"


def utc_iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_job_id(now: float | None = None) -> str:
    """A ULID: 48 bits of milliseconds then 80 random bits, so ids sort by creation time."""
    millis = int((time.time() if now is None else now) * 1000)
    value = (millis << 80) | int.from_bytes(os.urandom(10), "big")
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def is_job_id(text: str) -> bool:
    return len(text) == 26 and all(c in _CROCKFORD for c in text)


def encode_cursor(job_id: str) -> str:
    """A listing cursor: the last job id of a page (ids sort by creation time), opaque to callers."""
    return base64.urlsafe_b64encode(job_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        job_id = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
    except ValueError:
        job_id = ""
    if not is_job_id(job_id):
        raise BadRequest("cursor is not one this server gave out")
    return job_id


@dataclass(frozen=True)
class Failure:
    """Why a job (or an attempt) failed, in words a user can act on."""

    reason: str
    message: str
    hint: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"reason": self.reason, "message": self.message, "hint": self.hint}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Failure:
        return cls(str(data.get("reason", "Unknown")), str(data.get("message", "")), str(data.get("hint", "")))


@dataclass(frozen=True)
class ContainerExit:
    """How a container ended, as its launcher saw it. ``exit_code`` None means nobody saw it end.

    ``failure`` is the launcher's own diagnosis where it has one (ECS stop codes say more than an
    exit code); ``details`` are what it knew of the container, kept on the attempt for good,
    because ECS forgets stopped tasks after about an hour.
    """

    exit_code: int | None
    stop_reason: str = ""
    failure: Failure | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    id: str
    task: str
    inputs: tuple[str, ...]
    output: str
    params: dict[str, Any]
    created_at: float
    callback_url: str | None = None
    priority: int = 0
    status: JobStatus = JobStatus.QUEUED
    attempt: int = 0
    version: int = 0
    started_at: float | None = None
    finished_at: float | None = None
    progress: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    error: dict[str, str] | None = None
    attempts: tuple[dict[str, Any], ...] = ()
    launch: dict[str, Any] | None = None
    stop_request: dict[str, Any] | None = field(default=None)
    # Not to be (re)launched before this time: a retry's backoff.
    not_before: float | None = None

    def to_public(self) -> dict[str, Any]:
        """The job as the API shows it (DESIGN.md: GET /jobs/<id>)."""
        return {
            "id": self.id,
            "task": self.task,
            "status": self.status.value,
            "inputs": list(self.inputs),
            "output": self.output,
            "params": self.params,
            "priority": self.priority,
            "attempt": self.attempt,
            "attempts": [dict(a) for a in self.attempts],
            "created_at": utc_iso(self.created_at),
            "started_at": utc_iso(self.started_at) if self.started_at else None,
            "finished_at": utc_iso(self.finished_at) if self.finished_at else None,
            "progress": self.progress,
            "result": self.result,
            "error": self.error,
            "cancel_requested": bool(self.stop_request and self.stop_request.get("reason") == STOP_CANCEL),
            "retry_at": utc_iso(self.not_before) if self.not_before and not self.status.terminal else None,
            "callback_url": self.callback_url,
        }


def _move(job: Job, to: JobStatus, **changes: Any) -> Job:
    if to not in _ALLOWED.get(job.status, frozenset()):
        raise InvalidTransition(f"job {job.id} is {job.status.value}; it cannot become {to.value}")
    return replace(job, status=to, **changes)


def _close_attempt(job: Job, status: JobStatus, now: float, exit_code: int | None, error: dict | None,
                   details: dict[str, Any] | None = None) -> tuple:
    if not job.attempts:
        return job.attempts
    last = {**job.attempts[-1], "status": status.value, "finished_at": utc_iso(now)}
    last.update(exit_code=exit_code, error=error, **(details or {}))
    return (*job.attempts[:-1], last)


def begin_attempt(job: Job, now: float) -> Job:
    """queued -> starting: a new attempt is recorded BEFORE its container is launched."""
    number = job.attempt + 1
    attempt = {"number": number, "status": JobStatus.STARTING.value, "started_at": utc_iso(now), "began": now}
    return _move(job, JobStatus.STARTING, attempt=number, attempts=(*job.attempts, attempt),
                 launch=None, progress=None, not_before=None, stop_request=None)


def attempt_began(job: Job) -> float:
    """When the current attempt was recorded (its start deadline counts from there)."""
    return float(job.attempts[-1].get("began", job.created_at)) if job.attempts else job.created_at


def defer_launch(job: Job, failure: Failure, now: float, not_before: float) -> Job:
    """A launch failed in a way worth another try: same attempt, launched again after a backoff."""
    if job.status is not JobStatus.STARTING or job.launch is not None:
        raise InvalidTransition(f"job {job.id} is {job.status.value}; there is no pending launch to defer")
    last = dict(job.attempts[-1])
    last["launch_errors"] = [*last.get("launch_errors", []), {**failure.to_dict(), "at": utc_iso(now)}]
    return replace(job, attempts=(*job.attempts[:-1], last), not_before=not_before)


def launch_errors(job: Job) -> int:
    return len(job.attempts[-1].get("launch_errors", [])) if job.attempts else 0


def requeue(job: Job, ended: Job, not_before: float) -> Job:
    """The attempt ended badly (``ended`` is what finish() made of it) and the policy retries:
    the job goes back to the queue with the attempt closed and its reason kept."""
    return _move(job, JobStatus.QUEUED, attempts=ended.attempts, error=ended.error, result=None,
                 launch=None, stop_request=None, progress=None, not_before=not_before)


def retry(job: Job, now: float) -> Job:
    """POST /jobs/<id>/retry: run a failed, cancelled or timed-out job again, as a new attempt."""
    return _move(job, JobStatus.QUEUED, finished_at=None, error=None, result=None, launch=None,
                 stop_request=None, progress=None, not_before=now)


def record_launch(job: Job, handle: dict[str, Any]) -> Job:
    """The launcher answered: remember how to find the container again (even after a restart)."""
    if job.status not in LAUNCHED:
        raise InvalidTransition(f"job {job.id} is {job.status.value}; there is no launch to record")
    return replace(job, launch=handle)


def mark_running(job: Job, now: float) -> Job:
    """starting -> running: the container said it has begun."""
    return _move(job, JobStatus.RUNNING, started_at=job.started_at or now)


def request_stop(job: Job, reason: str, now: float) -> Job:
    """Ask for the container to stop; the job ends when the launcher says it has."""
    if job.status.terminal:
        raise InvalidTransition(f"job {job.id} is already {job.status.value}")
    if job.stop_request:
        return job
    return replace(job, stop_request={"reason": reason, "at": now})


def cancel_queued(job: Job, now: float) -> Job:
    """A job that never launched is cancelled at once."""
    return _move(job, JobStatus.CANCELLED, finished_at=now, stop_request={"reason": STOP_CANCEL, "at": now},
                 error=Failure("Cancelled", "The job was cancelled before it started.").to_dict())


def fail_launch(job: Job, failure: Failure, now: float) -> Job:
    """The container could not be started; the job keeps the reason."""
    error = failure.to_dict()
    return _move(job, JobStatus.FAILED, finished_at=now, error=error,
                 attempts=_close_attempt(job, JobStatus.FAILED, now, None, error))


def finish(job: Job, exit: ContainerExit, now: float) -> Job:
    """The container has ended: decide the terminal status from the launcher's ground truth."""
    status, failure = interpret_exit(job, exit)
    error = failure.to_dict() if failure else None
    result = job.result if status is JobStatus.SUCCEEDED else None
    return _move(job, status, finished_at=now, error=error, result=result,
                 attempts=_close_attempt(job, status, now, exit.exit_code, error, exit.details))


def interpret_exit(job: Job, exit: ContainerExit) -> tuple[JobStatus, Failure | None]:
    """Map an exit (code, stop reason) plus what the container reported to a terminal status."""
    code = exit.exit_code
    reported = Failure.from_dict(job.error) if job.error else None
    stop = (job.stop_request or {}).get("reason")
    if code == 0 or (code is None and job.result is not None and reported is None):
        return JobStatus.SUCCEEDED, None
    if stop == STOP_CANCEL:
        return JobStatus.CANCELLED, Failure("Cancelled", "The job was cancelled while it ran.")
    if stop == STOP_START_DEADLINE:
        return JobStatus.FAILED, Failure(
            "StartDeadlineExceeded", "The container did not start running in time and was stopped.",
            "Check the image and its start-up; raise start_deadline_seconds for the task type if it is slow.")
    if stop == STOP_TIMEOUT:
        return JobStatus.TIMED_OUT, Failure(
            "Timeout", "The job ran longer than its task type allows and was stopped.",
            "Raise timeout_seconds for the task type in config/tasks.json, or split the work.")
    if reported is not None:
        return JobStatus.FAILED, reported
    return JobStatus.FAILED, exit.failure or failure_for_exit(code, exit.stop_reason)


def failure_for_exit(code: int | None, stop_reason: str = "") -> Failure:
    if code is None:
        return Failure(
            "ContainerLost",
            "The container ended while nobody was watching it and reported no result.",
            "The control plane was probably down when it ended; submit the job again.")
    if code in (137, -9):
        return Failure(
            "OutOfMemory", f"The container was killed (exit {code}, SIGKILL).",
            "This usually means it ran out of memory: raise memory for the task type, "
            "or process the input in smaller pieces.")
    if code < 0:
        return Failure("KilledBySignal", f"The container was killed by signal {-code}.", stop_reason)
    return Failure("NonZeroExit", f"The container exited with code {code}.",
                   stop_reason or "Read the job's logs: poky logs <job id>")
