"""Job records in DynamoDB: the same interface and guards as the SQLite store.

- Control-plane writes are conditional on the item's version (ConditionalCheckFailed -> StaleWrite).
- The runner's reports are conditional on attempt and status, like SQLite's.
- Three GSIs list newest first (job ids sort by creation time): by status, by task, and all jobs
  (a constant partition, fine at the scale of one team's job runner).
- A finished job gets an ``expires_at`` (epoch seconds) that DynamoDB's TTL deletes after
  POKY_JOB_TTL_DAYS (0 keeps jobs forever).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from poky_app.aws.clients import AwsClients, error_code
from poky_app.errors import Conflict, StaleWrite
from poky_app.jobs import ACTIVE, Job, JobStatus, decode_cursor, encode_cursor
from poky_app.ports import IDEMPOTENCY_TTL_SECONDS

GSI_BY_STATUS = "by_status"
GSI_BY_TASK = "by_task"
GSI_ALL = "all_jobs"
ALL_PARTITION = "job"
TTL_ATTRIBUTE = "expires_at"
_LAUNCHED = (JobStatus.STARTING.value, JobStatus.RUNNING.value)

_JSON = ("inputs", "params", "progress", "result", "error", "attempts", "launch", "stop_request")
_NUMBERS = ("attempt", "version", "priority", "created_at", "started_at", "finished_at", "not_before")
_STRINGS = ("id", "task", "status", "output", "callback_url")
# Written by save(): everything the control plane decides (see the SQLite store).
_ALL_COLUMNS = (*_JSON, *_NUMBERS, *_STRINGS)
_SAVED = ("status", "attempt", "started_at", "finished_at", "result", "error", "attempts", "launch",
          "stop_request", "progress", "not_before")


def table_definition(name: str) -> dict[str, Any]:
    """The CreateTable request: used by `poky bootstrap` and the tests alike."""
    def index(index_name: str, partition: str) -> dict[str, Any]:
        return {"IndexName": index_name, "Projection": {"ProjectionType": "ALL"},
                "KeySchema": [{"AttributeName": partition, "KeyType": "HASH"},
                              {"AttributeName": "id", "KeyType": "RANGE"}]}

    return {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in ("id", "status", "task", "kind")],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": [index(GSI_BY_STATUS, "status"), index(GSI_BY_TASK, "task"),
                                   index(GSI_ALL, "kind")],
    }


def _value(column: str, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if column in _JSON:
        return {"S": json.dumps(list(value) if isinstance(value, tuple) else value, separators=(",", ":"))}
    if column in _NUMBERS:
        return {"N": repr(value)}
    return {"S": str(value)}


def _item(job: Job) -> dict[str, Any]:
    item = {"kind": {"S": ALL_PARTITION}}
    for column in (*_STRINGS, *_NUMBERS, *_JSON):
        encoded = _value(column, getattr(job, column))
        if encoded is not None:
            item[column] = encoded
    return item


def _job(item: dict[str, Any]) -> Job:
    data: dict[str, Any] = {}
    for column in _STRINGS:
        data[column] = item[column]["S"] if column in item else None
    for column in _NUMBERS:
        if column in item:
            number = float(item[column]["N"])
            data[column] = int(number) if column in ("attempt", "version", "priority") else number
    for column in _JSON:
        data[column] = json.loads(item[column]["S"]) if column in item else None
    data["inputs"] = tuple(data["inputs"] or ())
    data["attempts"] = tuple(data["attempts"] or ())
    data["status"] = JobStatus(data["status"])
    return Job(**data)


class DynamoReporter:
    """The runner's three reports, guarded by attempt and status."""

    def __init__(self, clients: AwsClients, table: str) -> None:
        self.clients = clients
        self.table = table

    def _guarded_update(self, job_id: str, attempt: int, expression: str, values: dict[str, Any],
                        condition: str = "#attempt = :attempt AND #status IN (:starting, :running)") -> bool:
        known = {**values, ":attempt": {"N": str(attempt)}, ":starting": {"S": _LAUNCHED[0]},
                 ":running": {"S": _LAUNCHED[1]}}
        text = f"{expression} {condition}"
        # DynamoDB refuses unused names and values, and most column names are reserved words.
        used = {name: value for name, value in known.items() if name in text}
        names = {f"#{column}": column for column in _ALL_COLUMNS if f"#{column}" in text}
        try:
            self.clients.dynamodb.update_item(
                TableName=self.table, Key={"id": {"S": job_id}}, UpdateExpression=expression,
                ConditionExpression=condition, ExpressionAttributeNames=names,
                ExpressionAttributeValues=used)
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def mark_running(self, job_id: str, attempt: int, now: float) -> bool:
        return self._guarded_update(
            job_id, attempt, "SET #status = :running, #started_at = if_not_exists(#started_at, :now) "
                             "ADD #version :one",
            {":now": {"N": repr(now)}, ":one": {"N": "1"}}, condition="#attempt = :attempt AND #status = :starting")

    def set_progress(self, job_id: str, attempt: int, progress: dict[str, Any]) -> bool:
        return self._guarded_update(job_id, attempt, "SET #progress = :progress",
                                    {":progress": _value("progress", progress)})

    def set_outcome(self, job_id: str, attempt: int, *, result: dict[str, Any] | None,
                    error: dict[str, str] | None) -> bool:
        sets, removes, values = [], [], {":one": {"N": "1"}}
        for name, value in (("result", result), ("error", error)):
            if value is None:
                removes.append(f"#{name}")
            else:
                sets.append(f"#{name} = :{name}")
                values[f":{name}"] = _value(name, value)
        expression = ("SET " + ", ".join(sets) + " " if sets else "") + \
                     ("REMOVE " + ", ".join(removes) + " " if removes else "") + "ADD #version :one"
        return self._guarded_update(job_id, attempt, expression, values)


class DynamoJobStore(DynamoReporter):
    def __init__(self, clients: AwsClients, table: str, ttl_days: float = 30.0) -> None:
        super().__init__(clients, table)
        self.ttl_days = ttl_days

    def create(self, job: Job) -> None:
        try:
            self.clients.dynamodb.put_item(TableName=self.table, Item=_item(job),
                                           ConditionExpression="attribute_not_exists(id)")
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise Conflict(f"job {job.id} already exists") from None
            raise

    def get(self, job_id: str) -> Job | None:
        item = self.clients.dynamodb.get_item(TableName=self.table, Key={"id": {"S": job_id}},
                                              ConsistentRead=True).get("Item")
        return _job(item) if item else None

    def save(self, expected: Job, new: Job) -> Job:
        new = replace(new, version=expected.version + 1)
        sets, removes = ["#version = :version"], []
        values: dict[str, Any] = {":version": {"N": str(new.version)}, ":expected": {"N": str(expected.version)}}
        names = {"#version": "version"}
        for column in _SAVED:
            encoded = _value(column, getattr(new, column))
            placeholder = f"#{column}"
            names[placeholder] = column
            if encoded is None:
                removes.append(placeholder)
            else:
                sets.append(f"{placeholder} = :{column}")
                values[f":{column}"] = encoded
        if new.status.terminal and self.ttl_days > 0 and new.finished_at:
            sets.append(f"#{TTL_ATTRIBUTE} = :ttl")
            names[f"#{TTL_ATTRIBUTE}"] = TTL_ATTRIBUTE
            values[":ttl"] = {"N": str(int(new.finished_at + self.ttl_days * 86400))}
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        try:
            self.clients.dynamodb.update_item(
                TableName=self.table, Key={"id": {"S": expected.id}}, UpdateExpression=expression,
                ConditionExpression="#version = :expected", ExpressionAttributeNames=names,
                ExpressionAttributeValues=values)
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise StaleWrite(f"job {expected.id} changed since it was read") from None
            raise
        return new

    def list(self, *, status: JobStatus | None = None, task: str | None = None, limit: int = 50,
             cursor: str | None = None) -> tuple[list[Job], str | None]:
        if status is not None:
            index, partition, value = GSI_BY_STATUS, "status", status.value
        elif task is not None:
            index, partition, value = GSI_BY_TASK, "task", task
        else:
            index, partition, value = GSI_ALL, "kind", ALL_PARTITION
        query: dict[str, Any] = {
            "TableName": self.table, "IndexName": index, "ScanIndexForward": False,
            "KeyConditionExpression": "#p = :p", "ExpressionAttributeNames": {"#p": partition},
            "ExpressionAttributeValues": {":p": {"S": value}},
        }
        if status is not None and task is not None:
            query["FilterExpression"] = "#task = :task"
            query["ExpressionAttributeNames"]["#task"] = "task"
            query["ExpressionAttributeValues"][":task"] = {"S": task}
        if cursor:
            query["ExclusiveStartKey"] = {"id": {"S": decode_cursor(cursor)}, partition: {"S": value}}
        jobs: list[Job] = []
        while True:
            # One more than asked, to know whether another page exists.
            page = self.clients.dynamodb.query(**query, Limit=limit + 1 - len(jobs))
            jobs.extend(_job(item) for item in page.get("Items", []))
            if len(jobs) > limit or "LastEvaluatedKey" not in page:
                break
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        more = len(jobs) > limit
        jobs = jobs[:limit]
        return jobs, (encode_cursor(jobs[-1].id) if more and jobs else None)

    def active(self) -> list[Job]:
        found: list[Job] = []
        for status in sorted(ACTIVE):
            cursor = None
            while True:
                page, cursor = self.list(status=status, limit=100, cursor=cursor)
                found.extend(page)
                if cursor is None:
                    break
        return sorted(found, key=lambda job: (-job.priority, job.id))

    def queued(self) -> list[Job]:
        found: list[Job] = []
        cursor = None
        while True:
            page, cursor = self.list(status=JobStatus.QUEUED, limit=100, cursor=cursor)
            found.extend(page)
            if cursor is None:
                return sorted(found, key=lambda job: (-job.priority, job.id))

    def count_launched(self, task: str | None = None) -> int:
        """COUNT queries: DynamoDB returns the number, not the items."""
        total = 0
        for status in _LAUNCHED:
            query: dict[str, Any] = {
                "TableName": self.table, "IndexName": GSI_BY_STATUS, "Select": "COUNT",
                "KeyConditionExpression": "#status = :status", "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {":status": {"S": status}}}
            if task is not None:
                query["FilterExpression"] = "#task = :task"
                query["ExpressionAttributeNames"]["#task"] = "task"
                query["ExpressionAttributeValues"][":task"] = {"S": task}
            while True:
                page = self.clients.dynamodb.query(**query)
                total += int(page.get("Count", 0))
                if "LastEvaluatedKey" not in page:
                    break
                query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return total

    def claim_idempotency_key(self, key: str, request_hash: str, job_id: str,
                              now: float) -> tuple[str, str] | None:
        # Kept in the jobs table under its own id prefix; lacking status, task and kind, these
        # items stay out of every index (sparse GSIs), and TTL removes them after a day.
        item_id = {"S": f"idempotency#{key}"}
        expires = {"N": str(int(now + IDEMPOTENCY_TTL_SECONDS))}
        try:
            self.clients.dynamodb.put_item(
                TableName=self.table,
                Item={"id": item_id, "request_hash": {"S": request_hash}, "job_id": {"S": job_id},
                      TTL_ATTRIBUTE: expires},
                # An expired binding may be taken over: TTL deletes lazily (and moto never does).
                ConditionExpression="attribute_not_exists(id) OR #expires < :now",
                ExpressionAttributeNames={"#expires": TTL_ATTRIBUTE},
                ExpressionAttributeValues={":now": {"N": str(int(now))}})
            return None
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
        item = self.clients.dynamodb.get_item(TableName=self.table, Key={"id": item_id}, ConsistentRead=True)["Item"]
        return item["job_id"]["S"], item["request_hash"]["S"]
