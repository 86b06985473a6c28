"""Job records in SQLite (WAL) under POKY_HOME, shared by the control plane and local runners.

Control-plane writes are guarded on the row's version, which every write but progress bumps:
a decision made on a record that has since changed is refused (StaleWrite) and made again.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

from poky_app.errors import Conflict, StaleWrite
from poky_app.jobs import ACTIVE, Job, JobStatus, decode_cursor, encode_cursor
from poky_app.local.sqlite_reporter import SCHEMA, SqliteReporter, dump_json
from poky_app.ports import IDEMPOTENCY_TTL_SECONDS

_JSON_COLUMNS = ("params", "progress", "result", "error", "launch", "stop_request")
# What save() writes. progress is among them so a new attempt starts clean; a runner's report
# that loses that race is simply superseded by its next one (reports come every second).
_SAVED_COLUMNS = ("status", "attempt", "started_at", "finished_at", "result", "error", "attempts",
                  "launch", "stop_request", "progress", "not_before")


_ADDED_COLUMNS = {"not_before": "REAL"}


def _row_to_job(row: sqlite3.Row) -> Job:
    data = dict(row)
    for column in _JSON_COLUMNS:
        data[column] = json.loads(data[column]) if data[column] is not None else None
    data["inputs"] = tuple(json.loads(data["inputs"]))
    data["attempts"] = tuple(json.loads(data["attempts"]))
    data["status"] = JobStatus(data["status"])
    return Job(**data)


def _columns(job: Job) -> dict[str, Any]:
    values = {
        "id": job.id, "task": job.task, "status": job.status.value, "attempt": job.attempt,
        "version": job.version, "priority": job.priority, "created_at": job.created_at,
        "started_at": job.started_at, "finished_at": job.finished_at,
        "inputs": json.dumps(list(job.inputs)), "output": job.output,
        "callback_url": job.callback_url, "attempts": json.dumps(list(job.attempts)),
        "not_before": job.not_before,
    }
    for column in _JSON_COLUMNS:
        values[column] = dump_json(getattr(job, column))
    return values


class SqliteJobStore(SqliteReporter):
    """The control plane's store; the runner's reports are inherited from SqliteReporter."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(SCHEMA)
            # Files made by an earlier Poky lack the columns added since: add them, empty.
            have = {row["name"] for row in db.execute("PRAGMA table_info(jobs)")}
            for column, kind in _ADDED_COLUMNS.items():
                if column not in have:
                    db.execute(f"ALTER TABLE jobs ADD COLUMN {column} {kind}")

    def create(self, job: Job) -> None:
        values = _columns(job)
        names = ", ".join(values)
        marks = ", ".join(f":{name}" for name in values)
        try:
            self._connect().execute(f"INSERT INTO jobs ({names}) VALUES ({marks})", values)
        except sqlite3.IntegrityError:
            raise Conflict(f"job {job.id} already exists") from None

    def get(self, job_id: str) -> Job | None:
        row = self._connect().execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _row_to_job(row) if row else None

    def save(self, expected: Job, new: Job) -> Job:
        values = _columns(new)
        assignments = ", ".join(f"{c} = :{c}" for c in _SAVED_COLUMNS)
        values["expected_version"] = expected.version
        values["version"] = expected.version + 1
        cursor = self._connect().execute(
            f"UPDATE jobs SET {assignments}, version = :version "
            "WHERE id = :id AND version = :expected_version", values)
        if cursor.rowcount != 1:
            raise StaleWrite(f"job {expected.id} changed since it was read")
        return replace(new, version=expected.version + 1)

    def list(self, *, status: JobStatus | None = None, task: str | None = None, limit: int = 50,
             cursor: str | None = None) -> tuple[list[Job], str | None]:
        where, args = [], []
        if status is not None:
            where.append("status = ?")
            args.append(status.value)
        if task is not None:
            where.append("task = ?")
            args.append(task)
        if cursor:
            where.append("id < ?")
            args.append(decode_cursor(cursor))
        sql = "SELECT * FROM jobs" + (" WHERE " + " AND ".join(where) if where else "")
        rows = self._connect().execute(sql + " ORDER BY id DESC LIMIT ?", (*args, limit + 1)).fetchall()
        jobs = [_row_to_job(r) for r in rows[:limit]]
        next_cursor = encode_cursor(jobs[-1].id) if len(rows) > limit else None
        return jobs, next_cursor

    def active(self) -> list[Job]:
        marks = ", ".join("?" for _ in ACTIVE)
        rows = self._connect().execute(
            f"SELECT * FROM jobs WHERE status IN ({marks}) ORDER BY priority DESC, id",
            [s.value for s in ACTIVE]).fetchall()
        return [_row_to_job(r) for r in rows]

    def queued(self) -> list[Job]:
        rows = self._connect().execute(
            "SELECT * FROM jobs WHERE status = 'queued' ORDER BY priority DESC, id").fetchall()
        return [_row_to_job(r) for r in rows]

    def count_launched(self, task: str | None = None) -> int:
        sql = "SELECT COUNT(*) FROM jobs WHERE status IN ('starting', 'running')"
        args: tuple[str, ...] = ()
        if task is not None:
            sql, args = sql + " AND task = ?", (task,)
        return int(self._connect().execute(sql, args).fetchone()[0])

    def claim_idempotency_key(self, key: str, request_hash: str, job_id: str,
                              now: float) -> tuple[str, str] | None:
        db = self._connect()
        with db:  # one transaction: the expired-binding purge and the claim are atomic together
            db.execute("BEGIN IMMEDIATE")
            db.execute("DELETE FROM idempotency_keys WHERE key = ? AND created_at < ?",
                       (key, now - IDEMPOTENCY_TTL_SECONDS))
            inserted = db.execute(
                "INSERT OR IGNORE INTO idempotency_keys (key, request_hash, job_id, created_at) VALUES (?, ?, ?, ?)",
                (key, request_hash, job_id, now)).rowcount
            if inserted:
                return None
            row = db.execute("SELECT job_id, request_hash FROM idempotency_keys WHERE key = ?", (key,)).fetchone()
            return row["job_id"], row["request_hash"]
