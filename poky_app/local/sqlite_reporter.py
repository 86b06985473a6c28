"""The runner's half of the SQLite job store: the table, the connection, and the three reports
a container makes (running, progress, outcome). Guarded by attempt and status, so a report from
an old attempt, or after the job has ended, is dropped.

Split from the control plane's store so a container start imports only sqlite3 and json.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

TYPE_CHECKING = False  # typing.TYPE_CHECKING would import typing at every container start
if TYPE_CHECKING:
    from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    task TEXT NOT NULL,
    status TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    version INTEGER NOT NULL,
    priority INTEGER NOT NULL,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    inputs TEXT NOT NULL,
    output TEXT NOT NULL,
    params TEXT NOT NULL,
    callback_url TEXT,
    progress TEXT,
    result TEXT,
    error TEXT,
    attempts TEXT NOT NULL,
    launch TEXT,
    stop_request TEXT,
    not_before REAL
);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, id);
CREATE INDEX IF NOT EXISTS jobs_by_task ON jobs (task, id);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    job_id TEXT NOT NULL,
    created_at REAL NOT NULL
);
"""

_LAUNCHED = ("starting", "running")


def dump_json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


class SqliteReporter:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()

    def _connect(self) -> sqlite3.Connection:
        """One connection per thread: sqlite3 connections must not be shared across threads."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable across process crashes in WAL mode (only power loss can lose
            # the last commits), which is the failure the embedded mode guards against.
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    def mark_running(self, job_id: str, attempt: int, now: float) -> bool:
        cursor = self._connect().execute(
            "UPDATE jobs SET status = 'running', started_at = COALESCE(started_at, ?), "
            "version = version + 1 WHERE id = ? AND attempt = ? AND status = 'starting'",
            (now, job_id, attempt))
        return cursor.rowcount == 1

    def set_progress(self, job_id: str, attempt: int, progress: dict[str, Any]) -> bool:
        # Not versioned: progress is advisory and frequent, and no control-plane decision reads it.
        cursor = self._connect().execute(
            "UPDATE jobs SET progress = ? WHERE id = ? AND attempt = ? AND status IN (?, ?)",
            (dump_json(progress), job_id, attempt, *_LAUNCHED))
        return cursor.rowcount == 1

    def set_outcome(self, job_id: str, attempt: int, *, result: dict[str, Any] | None,
                    error: dict[str, str] | None) -> bool:
        cursor = self._connect().execute(
            "UPDATE jobs SET result = ?, error = ?, version = version + 1 "
            "WHERE id = ? AND attempt = ? AND status IN (?, ?)",
            (dump_json(result), dump_json(error), job_id, attempt, *_LAUNCHED))
        return cursor.rowcount == 1
