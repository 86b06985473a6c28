"""Runs each job attempt as a local subprocess: the embedded stand-in for a Fargate task.

- Argument lists only, never a shell; each container gets its own session and process group, so
  a stop reaches everything it started and it outlives a control plane that is killed.
- A waiter thread per child reports the exit the moment it happens (no polling delay).
- Containers are identified by pid plus the kernel's start time, so a reused pid is never
  mistaken for ours; after a restart, find() re-adopts a running attempt by its environment
  (POKY_JOB_ID / POKY_ATTEMPT), the local analogue of finding an ECS task by startedBy.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from poky_app.catalog import TaskType
from poky_app.errors import BadRequest, LaunchError
from poky_app.jobs import ContainerExit, Failure, Job
from poky_app.ports import ExitListener

log = logging.getLogger(__name__)

_PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "SYSTEMROOT")
_MAX_LOG_READ = 1 << 20


def _start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot; None if it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; the fields after it start past the last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def _exit_from_returncode(code: int) -> ContainerExit:
    if code == -signal.SIGKILL:
        # Locally a SIGKILL is someone's kill -9 (or the kernel's OOM killer): not, as on
        # Fargate, a sure sign of memory; and worth another attempt.
        return ContainerExit(137, "killed by SIGKILL", Failure(
            "Killed", "The container was killed (SIGKILL, exit 137).",
            "If it ran out of memory (see `dmesg`), raise memory for the task type; otherwise retry it."))
    if code < 0:  # killed by a signal: report it as a container runtime would (128 + signal)
        name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
        return ContainerExit(128 - code, f"killed by {name}")
    return ContainerExit(code)


class ProcessLauncher:
    def __init__(self, logs_dir: Path, workdir: Path) -> None:
        self.logs_dir = Path(logs_dir)
        self.workdir = Path(workdir)
        self._listeners: list[ExitListener] = []
        self._children: dict[int, subprocess.Popen[bytes]] = {}
        self._exits: dict[tuple[int, int | None], ContainerExit] = {}
        self._lock = threading.Lock()

    def on_exit(self, listener: ExitListener) -> None:
        self._listeners.append(listener)

    def log_path(self, job_id: str, attempt: int) -> Path:
        return self.logs_dir / job_id / f"attempt-{attempt}.log"

    def launch(self, job: Job, task: TaskType, env: dict[str, str]) -> dict[str, Any]:
        # The catalog names the container's interpreter "python"; locally that is ours.
        command = task.command
        argv = [sys.executable if command[0] in ("python", "python3") else command[0], *command[1:]]
        child_env = {k: os.environ[k] for k in _PASSED_THROUGH if k in os.environ}
        child_env.update(PYTHONPATH=str(self.workdir), PYTHONUNBUFFERED="1", **env)
        log_file = self.log_path(job.id, job.attempt)
        log_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            with log_file.open("ab") as sink:
                proc = subprocess.Popen(
                    argv, env=child_env, cwd=self.workdir, stdin=subprocess.DEVNULL,
                    stdout=sink, stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
        except OSError as exc:
            raise LaunchError(f"cannot start {argv[0]}: {exc.strerror}", reason="CannotStartContainer",
                              hint="Check the task's command in config/tasks.json.") from None
        handle = {"kind": "process", "pid": proc.pid, "start_ticks": _start_ticks(proc.pid)}
        with self._lock:
            self._children[proc.pid] = proc
        threading.Thread(target=self._wait, args=(proc, handle, job.id, job.attempt),
                         name=f"wait-{job.id}", daemon=True).start()
        return handle

    def _wait(self, proc: subprocess.Popen[bytes], handle: dict[str, Any], job_id: str, attempt: int) -> None:
        exit = _exit_from_returncode(proc.wait())
        with self._lock:
            self._exits[(handle["pid"], handle["start_ticks"])] = exit
            self._children.pop(proc.pid, None)
        for listener in self._listeners:
            try:
                listener(job_id, attempt, exit)
            except Exception:  # a listener's bug must not kill the waiter; the monitor retries
                log.exception("exit listener failed for job %s attempt %s", job_id, attempt)

    def describe(self, handles: list[dict[str, Any]]) -> list[ContainerExit | None]:
        return [self.describe_one(handle) for handle in handles]

    def describe_one(self, handle: dict[str, Any]) -> ContainerExit | None:
        pid, ticks = handle["pid"], handle.get("start_ticks")
        with self._lock:
            if (pid, ticks) in self._exits:
                return self._exits[(pid, ticks)]
            child = self._children.get(pid)
        if child is not None:
            return None  # our own child, still running (its waiter reports the exit)
        if ticks is not None and _start_ticks(pid) == ticks:
            return None  # adopted after a restart and still running
        return ContainerExit(None, "the process ended while the control plane was not watching it")

    def find(self, job_id: str, attempt: int) -> dict[str, Any] | None:
        wanted = {f"POKY_JOB_ID={job_id}".encode(), f"POKY_ATTEMPT={attempt}".encode()}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                environ = set((entry / "environ").read_bytes().split(b"\0"))
            except OSError:
                continue
            if wanted <= environ:
                pid = int(entry.name)
                ticks = _start_ticks(pid)
                if ticks is not None:
                    return {"kind": "process", "pid": pid, "start_ticks": ticks}
        return None

    def stop(self, handle: dict[str, Any], *, force: bool) -> None:
        pid = handle["pid"]
        if _start_ticks(pid) != handle.get("start_ticks"):
            return  # already gone (or the pid now belongs to someone else): nothing to stop
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL if force else signal.SIGTERM)

    def read_logs(self, job: Job, cursor: str | None, limit: int, *, final: bool = False) -> tuple[list[str], str]:
        """Lines from attempt 1 onwards. The cursor is "<attempt>:<byte offset>"."""
        job_id, attempt = job.id, job.attempt
        number, offset = _parse_log_cursor(cursor)
        lines: list[str] = []
        while number <= attempt and len(lines) < limit:
            path = self.log_path(job_id, number)
            chunk = b""
            if path.is_file():
                with path.open("rb") as handle:
                    handle.seek(offset)
                    chunk = handle.read(_MAX_LOG_READ)
            complete = chunk if (final or number < attempt) else chunk[: chunk.rfind(b"\n") + 1]
            taken = complete.splitlines(keepends=True)[: limit - len(lines)]
            lines.extend(line.decode("utf-8", "replace").rstrip("\r\n") for line in taken)
            offset += sum(len(line) for line in taken)
            if number == attempt or len(lines) >= limit or len(chunk) == _MAX_LOG_READ:
                break
            number, offset = number + 1, 0
        return lines, f"{number}:{offset}"


def _parse_log_cursor(cursor: str | None) -> tuple[int, int]:
    if not cursor:
        return 1, 0
    try:
        number, offset = (int(part) for part in cursor.split(":"))
    except ValueError:
        raise BadRequest("cursor is not one this server gave out") from None
    return max(number, 1), max(offset, 0)
