"""What Poky does with jobs: submit, dispatch, follow, cancel, recover. Backend-agnostic.

It reads a record, lets the state machine (jobs.py) decide, and writes the decision with a
guarded save; when the save loses a race it reads again and decides again (``_update``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from poky_app import jobs as machine
from poky_app.callbacks import notify
from poky_app.catalog import Catalog
from poky_app.contract import container_env, job_spec, spec_object_key
from poky_app.errors import (
    BadRequest,
    Conflict,
    FieldError,
    LaunchError,
    NotFound,
    StaleWrite,
    ValidationError,
)
from poky_app.jobs import LAUNCHED, ContainerExit, Failure, Job, JobStatus
from poky_app.ports import JobStore, Launcher, Storage
from poky_app.retry_policy import launch_backoff
from poky_app.settings import Settings
from poky_app.submission import JobRequest, parse_job_request
from poky_app.token_bucket import TokenBucket
from poky_app.uris import ObjectUri, parse_uri

log = logging.getLogger(__name__)

MAX_LIST_LIMIT = 200
MAX_WAIT_SECONDS = 20.0
# How often a long-poll rereads the job for changes made by other processes (the container's
# reports): a SQLite read is nearly free; each DynamoDB read is billed, so AWS rechecks slower.
WAIT_RECHECK_SECONDS = {"local": 0.02, "aws": 1.0}
MAX_LOG_LINES = 1000
_SAVE_TRIES = 50


def job_etag(job: Job) -> str:
    """Changes whenever anything a caller can see changes: any guarded write, or new progress."""
    progress = json.dumps(job.progress, sort_keys=True).encode()
    return f'"{job.version}-{zlib.crc32(progress):08x}"'


class JobService:
    def __init__(self, settings: Settings, catalog: Catalog | Callable[[], Catalog], store: JobStore, storage: Storage,
                 launcher: Launcher, *, container_env_extra: dict[str, str] | None = None,
                 clock: Callable[[], float] = time.time, random: Callable[[], float] = random.random) -> None:
        self.settings = settings
        # A loader is called on first use: the Lambda cold path answers /healthz without it.
        self._catalog = catalog
        self.store = store
        self.storage = storage
        self.launcher = launcher
        self._env_extra = container_env_extra or {}
        self._clock = clock
        self._random = random  # jitter of retry backoffs
        # Attempts this process is launching right now, claimed BEFORE the attempt is recorded,
        # so the reconciler never takes one for an orphan of a crash and launches it again
        # (there is one control plane per POKY_HOME). Counted: two claimants may overlap.
        self._launching: Counter[tuple[str, int]] = Counter()
        self._lock = threading.Lock()
        # Admission: one dispatch pass at a time; a call that finds one running asks it to go
        # round again instead of waiting. Launches are paced like ECS RunTask allows.
        self._dispatching = threading.Lock()
        self._dispatch_wanted = threading.Event()
        self._launch_tokens = TokenBucket(settings.launch_rate, settings.launch_burst)
        # Woken on every write this process makes, so long-polls see exits at once.
        self._changed = threading.Condition()
        launcher.on_exit(self.handle_exit)

    @property
    def catalog(self) -> Catalog:
        if callable(self._catalog):
            self._catalog = self._catalog()
        return self._catalog

    # -- reading -------------------------------------------------------------------------

    def get(self, job_id: str) -> Job:
        job = self.store.get(job_id)
        if job is None:
            raise NotFound(f"no job with id {job_id!r}")
        return job

    def wait_for_change(self, job_id: str, seen_etag: str | None, timeout: float) -> Job:
        """The job once its etag differs from ``seen_etag``, or as it is when ``timeout`` passes.

        Writes made here wake the wait at once; a container's own reports (another process) are
        noticed within WAIT_RECHECK_SECONDS of the backend.
        """
        deadline = time.monotonic() + timeout
        while True:
            job = self.get(job_id)
            remaining = deadline - time.monotonic()
            if job_etag(job) != seen_etag or remaining <= 0:
                return job
            with self._changed:
                self._changed.wait(min(remaining, WAIT_RECHECK_SECONDS[self.settings.backend]))

    def list(self, *, status: str | None, task: str | None, limit: str | int | None,
             cursor: str | None) -> tuple[list[Job], str | None]:
        errors = []
        if status and status not in {s.value for s in JobStatus}:
            errors.append(FieldError("/query/status", f"unknown status {status!r}; one of "
                                     + ", ".join(s.value for s in JobStatus)))
        try:
            count = int(limit) if limit not in (None, "") else 50
            if not 1 <= count <= MAX_LIST_LIMIT:
                raise ValueError
        except (TypeError, ValueError):
            errors.append(FieldError("/query/limit", f"expected a whole number from 1 to {MAX_LIST_LIMIT}"))
            count = 0
        if errors:
            raise ValidationError("bad query", errors)
        return self.store.list(status=JobStatus(status) if status else None, task=task or None,
                               limit=count, cursor=cursor or None)

    def logs(self, job_id: str, cursor: str | None) -> tuple[list[str], str | None]:
        job = self.get(job_id)
        if job.attempt == 0:
            return [], (None if job.status.terminal else (cursor or ""))
        terminal = job.status.terminal
        lines, next_cursor = self.launcher.read_logs(job, cursor, MAX_LOG_LINES, final=terminal)
        # null tells a follower it has everything: the job is over and nothing more was left.
        return lines, (None if terminal and not lines else next_cursor)

    # -- submitting ----------------------------------------------------------------------

    def submit(self, body: Any, idempotency_key: str | None = None) -> tuple[Job, bool]:
        """Validate and start a job. Returns it and whether it is new: a repeated request with the
        same Idempotency-Key and the same body gets the job the first one made."""
        request = parse_job_request(body, self.catalog)
        missing = [FieldError(f"/inputs/{i}", f"no object at {uri}")
                   for i, uri in enumerate(request.inputs) if not self.storage.exists(uri)]
        if missing:
            raise ValidationError("some inputs do not exist", missing)
        return self._create_once(request, body, idempotency_key)

    def _create_once(self, request: JobRequest, body: Any, key: str | None) -> tuple[Job, bool]:
        job_id = machine.new_job_id(self._clock())
        if key is not None:
            digest = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
            claimed = self.store.claim_idempotency_key(key, digest, job_id, self._clock())
            if claimed is not None:
                existing_id, existing_digest = claimed
                if existing_digest != digest:
                    raise Conflict(f"Idempotency-Key {key!r} was used with a different request "
                                   f"(job {existing_id}); use a new key for a new job")
                existing = self.store.get(existing_id)
                if existing is not None:
                    return existing, False
                # Bound but not written yet: the first request is still creating it, or died
                # before it could. Create it under the reserved id; only one create can win.
                return self._create_reserved(request, existing_id), False
        return self._create_reserved(request, job_id), True

    def _create_reserved(self, request: JobRequest, job_id: str) -> Job:
        try:
            return self._create_and_dispatch(request, job_id)
        except Conflict:
            return self.get(job_id)  # another request with the same key created it first

    def submit_legacy(self, fields: dict[str, Any]) -> Job:
        """POST /process_file: the original Poky route, a copy_rename of one object."""
        names = ("source_bucket", "source_key", "output_bucket")
        absent = [name for name in names if not isinstance(fields.get(name), str) or not fields[name].strip()]
        if absent:
            raise BadRequest(f"missing field: {', '.join(absent)}",
                             [FieldError(f"/{name}", "required") for name in absent])
        source_bucket, source_key, output_bucket = (fields[name].strip() for name in names)
        for name, bucket in (("source_bucket", source_bucket), ("output_bucket", output_bucket)):
            try:
                parse_uri(f"s3://{bucket}/", allow_prefix=True)
            except ValueError as exc:
                raise BadRequest(f"{name}: {exc}", [FieldError(f"/{name}", str(exc))]) from None
            if not self.storage.bucket_exists(bucket):
                raise BadRequest(f"{name}: bucket {bucket!r} does not exist",
                                 [FieldError(f"/{name}", "no such bucket")])
        try:
            source = parse_uri(f"s3://{source_bucket}/{source_key}")
        except ValueError as exc:
            raise BadRequest(f"source_key: {exc}", [FieldError("/source_key", str(exc))]) from None
        if not self.storage.exists(source):
            raise BadRequest(f"source_key: no object {source_key!r} in bucket {source_bucket!r}",
                             [FieldError("/source_key", "no such key")])
        body = {"task": "copy_rename", "inputs": [str(source)], "output": f"s3://{output_bucket}/"}
        try:
            request = parse_job_request(body, self.catalog)
        except ValidationError as exc:
            raise BadRequest(exc.message, exc.errors) from None
        return self._create_and_dispatch(request, machine.new_job_id(self._clock()))

    def _create_and_dispatch(self, request: JobRequest, job_id: str) -> Job:
        now = self._clock()
        task = self.catalog.get(request.task)
        assert task is not None  # parse_job_request checked it
        output = request.output or ObjectUri(task.output_bucket, f"{job_id}/")
        job = Job(id=job_id, task=request.task, inputs=tuple(str(u) for u in request.inputs),
                  output=str(output), params=request.params, created_at=now,
                  callback_url=request.callback_url, priority=request.priority)
        self.store.create(job)  # durable BEFORE anything is launched
        log.info("job %s queued: %s on %d input(s)", job.id, job.task, len(job.inputs))
        try:
            self.dispatch_queued()
        except Exception:  # the job is recorded: the next reconcile pass starts it
            log.exception("dispatch after submitting job %s failed; it stays queued", job.id)
        return self.get(job.id)

    # -- launching -----------------------------------------------------------------------

    def dispatch_queued(self) -> None:
        """Start queued jobs while there is room: priority first, then oldest first, within the
        global cap (POKY_MAX_RUNNING), each task type's max_running, and the launch rate."""
        self._dispatch_wanted.set()
        while self._dispatch_wanted.is_set():
            if not self._dispatching.acquire(blocking=False):
                return  # the pass in progress goes round again for us
            try:
                while self._dispatch_wanted.is_set():
                    self._dispatch_wanted.clear()
                    self._dispatch_pass()
            finally:
                self._dispatching.release()

    def _dispatch_pass(self) -> None:
        # Reads only the queue and counts: a submit must not cost a read of every running job.
        queued = self.store.queued()
        if not queued:
            return
        now = self._clock()
        total = self.store.count_launched()
        per_type: dict[str, int] = {}
        for job in queued:
            if job.not_before and job.not_before > now:
                continue
            if total >= self.settings.max_running:
                return
            task = self.catalog.get(job.task)
            if task and task.max_running is not None:
                if job.task not in per_type:
                    per_type[job.task] = self.store.count_launched(job.task)
                if per_type[job.task] >= task.max_running:
                    continue  # this type is full; a job of another type may still go
            if not self._launch_tokens.take():
                return  # the next pass (an exit, a submit, the monitor) goes on from here
            started = self.dispatch(job)
            if started.status in LAUNCHED:
                total += 1
                if job.task in per_type:
                    per_type[job.task] += 1

    def dispatch(self, job: Job) -> Job:
        """Start the next attempt of a queued job. Only the caller whose guarded write wins launches."""
        with self._claim((job.id, job.attempt + 1)):
            try:
                job = self._save(job, machine.begin_attempt(job, self._clock()))
            except StaleWrite:
                return self.get(job.id)
            return self._launch(job)

    @contextmanager
    def _claim(self, attempt: tuple[str, int], *, exclusive: bool = False) -> Iterator[bool]:
        """Mark an attempt as being launched by this process. Yields False, claiming nothing, when
        ``exclusive`` and someone here already holds it (recovery must then keep off)."""
        with self._lock:
            taken = not (exclusive and attempt in self._launching)
            if taken:
                self._launching[attempt] += 1
        try:
            yield taken
        finally:
            if taken:
                with self._lock:
                    self._launching[attempt] -= 1
                    if not self._launching[attempt]:
                        del self._launching[attempt]

    def _launch(self, job: Job) -> Job:
        """Start the container of the job's current attempt; the caller holds the claim on it."""
        task = self.catalog.get(job.task)
        try:
            if task is None:
                raise LaunchError(f"task {job.task!r} is no longer in the catalog",
                                  reason="UnknownTask", hint="Restore it in config/tasks.json.")
            handle = self.launcher.launch(job, task, self._env_for(job))
        except LaunchError as exc:
            log.warning("job %s attempt %d could not start: %s: %s", job.id, job.attempt, exc.reason, exc.message)
            return self._launch_failed(job, exc)
        log.info("job %s attempt %d started: %s", job.id, job.attempt, handle)
        return self._update(job.id, lambda j: machine.record_launch(j, handle)
                            if self._is_current(j, job.attempt) else None)

    def _launch_failed(self, job: Job, exc: LaunchError) -> Job:
        """Retryable: launch the same attempt again after a backoff (no attempt is used up), for as
        long as the task type's start deadline allows. Otherwise the job fails with the error."""
        failure = Failure(exc.reason, exc.message, exc.hint)
        task = self.catalog.get(job.task)
        deadline = task.start_deadline_seconds if task else 600.0

        def decide(current: Job) -> Job | None:
            if not self._is_current(current, job.attempt) or current.launch is not None:
                return None
            now = self._clock()
            tries = machine.launch_errors(current) + 1
            if exc.reason == "Throttled":
                self._launch_tokens.drain()  # slow every launch down, not only this one
            settings = self.settings
            if exc.retryable and now - machine.attempt_began(current) < deadline:
                delay = launch_backoff(tries, self._random, settings.launch_retry_base_seconds,
                                       settings.launch_retry_max_seconds)
                return machine.defer_launch(current, failure, now, now + delay)
            return machine.fail_launch(current, failure, now)

        return self._update(job.id, decide)

    def _env_for(self, job: Job) -> dict[str, str]:
        spec = job_spec(job.id, job.attempt, job.task, list(job.inputs), job.output, job.params)

        def store_spec(data: bytes) -> str:
            uri = ObjectUri(self.settings.output_bucket, spec_object_key(job.id, job.attempt))
            with self.storage.open_write(uri) as handle:
                handle.write(data)
            return str(uri)

        return {**self._env_extra, **container_env(spec, store_spec)}

    @staticmethod
    def _is_current(job: Job, attempt: int) -> bool:
        return job.attempt == attempt and job.status in LAUNCHED

    # -- following -----------------------------------------------------------------------

    def handle_exit(self, job_id: str, attempt: int, exit: ContainerExit) -> Job | None:
        """The launcher saw a container end: record the terminal state (once)."""
        def decide(job: Job) -> Job | None:
            if not self._is_current(job, attempt):
                return None  # a stale exit of an old attempt, or already recorded
            now = self._clock()
            done = machine.finish(job, exit, now)
            task = self.catalog.get(job.task)
            if done.status in (JobStatus.FAILED, JobStatus.TIMED_OUT) and task and done.error and \
                    task.retry.should_retry(job.attempt, exit.exit_code, done.error["reason"]):
                return machine.requeue(job, done, now + task.retry.delay(job.attempt, self._random))
            if done.status is JobStatus.SUCCEEDED and done.result is None:
                # A container that reported nothing: its outputs are what it left under output.
                outputs = [str(u) for u in self.storage.list(parse_uri(job.output, allow_prefix=True))]
                done = replace(done, result={"outputs": outputs})
            return done

        try:
            job, changed = self._transition(job_id, decide)
        except NotFound:
            return None  # not a job of ours (a stray event, a deleted record)
        if changed and job.status is JobStatus.QUEUED:
            log.info("job %s attempt %d failed (%s); retrying at %s", job.id, job.attempt,
                     (job.error or {}).get("reason"), machine.utc_iso(job.not_before or 0))
        if changed:
            self.dispatch_queued()  # capacity was freed (or a retry queued): use it now
        if changed and job.status.terminal:  # only the call whose write ended the job tells anyone
            reason = f": {job.error['reason']}: {job.error['message']}" if job.error else ""
            log.info("job %s %s (exit %s)%s", job.id, job.status.value, exit.exit_code, reason)
            if job.callback_url:
                notify(job.callback_url, job.to_public())
        return job

    def retry(self, job_id: str) -> Job:
        """POST /jobs/<id>/retry: a failed, cancelled or timed-out job runs again as a new attempt."""
        job = self.get(job_id)
        if job.status not in (JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.TIMED_OUT):
            raise Conflict(f"job {job_id} is {job.status.value}; only failed, cancelled or timed-out jobs are retried")
        job = self._update(job_id, lambda j: machine.retry(j, self._clock()) if j.status.terminal
                           and j.status is not JobStatus.SUCCEEDED else None)
        log.info("job %s queued again by request (attempt %d next)", job.id, job.attempt + 1)
        self.dispatch_queued()
        return self.get(job_id)

    def cancel(self, job_id: str) -> Job:
        job = self.get(job_id)
        if job.status.terminal:
            raise Conflict(f"job {job_id} is already {job.status.value}")

        def decide(current: Job) -> Job | None:
            if current.status.terminal:
                return None
            now = self._clock()
            if current.status is JobStatus.QUEUED:
                return machine.cancel_queued(current, now)
            return machine.request_stop(current, machine.STOP_CANCEL, now)

        job = self._update(job_id, decide)
        log.info("job %s: cancel requested (%s)", job_id, job.status.value)
        if job.status in LAUNCHED and job.launch:
            self.launcher.stop(job.launch, force=self.settings.cancel_grace_seconds == 0)
        return job

    def reconcile(self) -> None:
        """One pass over every unfinished job: the safety net behind the event-driven path.

        Dispatches queued jobs, re-adopts or relaunches attempts orphaned by a crash, records
        exits that were missed (one batched describe for all running containers), enforces
        timeouts and escalates stops past the grace period.
        """
        watched: list[Job] = []
        for job in self.store.active():
            with self._lock:
                if (job.id, job.attempt) in self._launching:
                    continue
            try:
                if job.not_before and job.not_before > self._clock() and job.launch is None:
                    continue  # backing off before a retry
                if job.status is JobStatus.QUEUED:
                    continue  # dispatch_queued() below, in order and within the limits
                if job.launch is None:
                    self._recover_unrecorded_launch(job)
                else:
                    watched.append(job)
            except Exception:
                log.exception("reconciling job %s failed", job.id)
        self._follow(watched)
        self.dispatch_queued()

    def refresh(self, job: Job) -> Job:
        """Bring one unfinished job up to date with its container (GET of a running job)."""
        if job.status in LAUNCHED and job.launch:
            self._follow([job])
            return self.get(job.id)
        return job

    def _follow(self, jobs: list[Job]) -> None:
        if not jobs:
            return
        try:
            exits = self.launcher.describe([job.launch for job in jobs if job.launch])
        except Exception:  # ECS busy or unreachable: the next pass asks again
            log.exception("describing %d containers failed", len(jobs))
            return
        for job, exit in zip(jobs, exits, strict=True):
            try:
                if exit is not None:
                    self.handle_exit(job.id, job.attempt, exit)
                else:
                    self._enforce_limits(job)
            except Exception:
                log.exception("following job %s failed", job.id)

    def _enforce_limits(self, job: Job) -> None:
        """Timeouts, and stops that outlast their grace period."""
        now = self._clock()
        task = self.catalog.get(job.task)
        started = machine.attempt_began(job)
        if job.stop_request is None and task and now - started > task.timeout_seconds:
            log.info("job %s ran past its %gs timeout; stopping it", job.id, task.timeout_seconds)
            job = self._update(job.id, lambda j: machine.request_stop(j, machine.STOP_TIMEOUT, now)
                               if self._is_current(j, job.attempt) else None)
        elif (job.stop_request is None and task and job.status is JobStatus.STARTING
              and now - machine.attempt_began(job) > task.start_deadline_seconds):
            log.info("job %s did not start within %gs; stopping it", job.id, task.start_deadline_seconds)
            job = self._update(job.id, lambda j: machine.request_stop(j, machine.STOP_START_DEADLINE, now)
                               if self._is_current(j, job.attempt) and j.status is JobStatus.STARTING else None)
        if job.stop_request and job.launch:
            overdue = now - job.stop_request["at"] >= self.settings.cancel_grace_seconds
            self.launcher.stop(job.launch, force=overdue)

    def _recover_unrecorded_launch(self, job: Job) -> None:
        """A crash came between recording the attempt and recording its container."""
        with self._claim((job.id, job.attempt), exclusive=True) as ours:
            if not ours:
                return  # a launch of ours is in flight: it is no orphan
            # Read again under the claim: the record the reconciler holds may predate a launch
            # (or even a whole run) that another thread of ours has since completed.
            fresh = self.get(job.id)
            if fresh.attempt != job.attempt or fresh.status is not job.status or fresh.launch is not None:
                return
            self._adopt_or_relaunch(fresh)

    def _adopt_or_relaunch(self, job: Job) -> None:
        try:
            handle = self.launcher.find(job.id, job.attempt)
        except Exception as exc:  # ECS busy or unreachable: like any launch failure worth retrying
            if job.status is not JobStatus.STARTING:
                raise
            error = exc if isinstance(exc, LaunchError) else LaunchError(
                f"looking for the attempt's task failed: {exc}", reason="ServiceError", retryable=True)
            self._launch_failed(job, error)
            return
        if handle is not None:
            log.info("job %s attempt %d: re-adopting its running container %s", job.id, job.attempt, handle)
            self._update(job.id, lambda j: machine.record_launch(j, handle)
                         if self._is_current(j, job.attempt) else None)
        elif job.status is JobStatus.STARTING and job.result is None and job.error is None:
            # It never reported anything, so its container never started: start it now.
            log.info("job %s attempt %d: recorded but never launched; launching", job.id, job.attempt)
            self._launch(job)
        else:
            self.handle_exit(job.id, job.attempt, ContainerExit(None, "not found after a restart"))

    # -- plumbing ------------------------------------------------------------------------

    def _save(self, expected: Job, new: Job) -> Job:
        saved = self.store.save(expected, new)
        with self._changed:
            self._changed.notify_all()
        return saved

    def now(self) -> float:
        return self._clock()

    def update(self, job_id: str, decide: Callable[[Job], Job | None]) -> Job:
        """Apply a decision with the guarded read-decide-write loop (for adapters' event handlers)."""
        return self._update(job_id, decide)

    def _update(self, job_id: str, decide: Callable[[Job], Job | None]) -> Job:
        return self._transition(job_id, decide)[0]

    def _transition(self, job_id: str, decide: Callable[[Job], Job | None]) -> tuple[Job, bool]:
        """Read, decide, guarded-write; on a lost race, read and decide again. Returns the job and
        whether this call's write changed it."""
        for _ in range(_SAVE_TRIES):
            job = self.get(job_id)
            new = decide(job)
            if new is None or new == job:
                return job, False
            try:
                return self._save(job, new), True
            except StaleWrite:
                continue
        raise StaleWrite(f"job {job_id} kept changing; gave up after {_SAVE_TRIES} tries")
