"""The three ports the domain talks to. Each has a local adapter (poky_app/local/) and an AWS one.

The service and the runner depend on these protocols only, never on sqlite3, subprocess or boto3.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any, BinaryIO, Protocol, runtime_checkable

from poky_app.catalog import TaskType
from poky_app.jobs import ContainerExit, Job, JobStatus
from poky_app.uris import ObjectUri


class JobStore(Protocol):
    """Durable job records. Every change of a control-plane field is a guarded write on version."""

    def create(self, job: Job) -> None: ...
    def get(self, job_id: str) -> Job | None: ...
    def save(self, expected: Job, new: Job) -> Job:
        """Write ``new`` if the record is still at ``expected.version``; else raise StaleWrite."""
        ...
    def list(self, *, status: JobStatus | None, task: str | None, limit: int,
             cursor: str | None) -> tuple[list[Job], str | None]: ...
    def active(self) -> list[Job]: ...
    def queued(self) -> list[Job]:
        """Queued jobs in dispatch order: highest priority first, then oldest first."""
        ...
    def count_launched(self, task: str | None = None) -> int:
        """How many jobs (of ``task``, or of any type) are starting or running."""
        ...
    def claim_idempotency_key(self, key: str, request_hash: str, job_id: str,
                              now: float) -> tuple[str, str] | None:
        """Bind ``key`` to ``job_id`` unless a live binding exists; then return its (job id, request hash).

        Bindings live IDEMPOTENCY_TTL_SECONDS; the claim is atomic, so two racing requests with one
        key get one job.
        """
        ...

    # Written by the container (the runner), guarded by attempt so a late report of an old
    # attempt is dropped. Each returns False when the guard refused the write.
    def mark_running(self, job_id: str, attempt: int, now: float) -> bool: ...
    def set_progress(self, job_id: str, attempt: int, progress: dict[str, Any]) -> bool: ...
    def set_outcome(self, job_id: str, attempt: int, *, result: dict[str, Any] | None,
                    error: dict[str, str] | None) -> bool: ...


class Storage(Protocol):
    """Objects addressed as s3://bucket/key."""

    def bucket_exists(self, bucket: str) -> bool: ...
    def exists(self, uri: ObjectUri) -> bool: ...
    def size(self, uri: ObjectUri) -> int: ...
    def open_read(self, uri: ObjectUri) -> AbstractContextManager[BinaryIO]: ...
    def open_write(self, uri: ObjectUri) -> AbstractContextManager[BinaryIO]:
        """A writer whose object appears, whole, only when the block ends without error."""
        ...
    def copy(self, source: ObjectUri, target: ObjectUri) -> int: ...
    def list(self, prefix: ObjectUri) -> Iterator[ObjectUri]: ...


@runtime_checkable
class PresigningStorage(Protocol):
    """Storage that can hand out its own short-lived URLs (S3). Local buckets cannot: the control
    plane signs URLs to its own /objects route instead."""

    def presign(self, method: str, uri: ObjectUri, ttl_seconds: int) -> str: ...


IDEMPOTENCY_TTL_SECONDS = 24 * 3600

ExitListener = Callable[[str, int, ContainerExit], None]


class Launcher(Protocol):
    """Starts, watches and stops one container per job attempt."""

    def launch(self, job: Job, task: TaskType, env: dict[str, str]) -> dict[str, Any]:
        """Start the container; return a JSON-able handle to find it again. Raises LaunchError."""
        ...
    def describe(self, handles: list[dict[str, Any]]) -> list[ContainerExit | None]:
        """For each handle: None while its container runs, how it ended once it has."""
        ...
    def find(self, job_id: str, attempt: int) -> dict[str, Any] | None:
        """The handle of a container started for this attempt, if one exists (re-adoption)."""
        ...
    def stop(self, handle: dict[str, Any], *, force: bool) -> None: ...
    def read_logs(self, job: Job, cursor: str | None, limit: int, *,
                  final: bool = False) -> tuple[list[str], str]: ...
    def on_exit(self, listener: ExitListener) -> None:
        """Register a call made as soon as a container this launcher watches ends."""
        ...
