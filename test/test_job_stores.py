"""Both job stores, SQLite and DynamoDB (moto), pass the same tests: guarded writes, runner reports
guarded by attempt, listing pages newest first."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from poky_app import jobs as machine
from poky_app.errors import BadRequest, Conflict, StaleWrite
from poky_app.jobs import ContainerExit, Job, JobStatus
from poky_app.local.sqlite_store import SqliteJobStore
from poky_app.ports import JobStore


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JobStore]:
    if request.param == "sqlite":
        yield SqliteJobStore(tmp_path / "jobs.sqlite3")
        return
    from moto import mock_aws

    from poky_app.aws.clients import AwsClients
    from poky_app.aws.dynamodb_store import DynamoJobStore, table_definition

    with mock_aws():
        clients = AwsClients("us-east-1")
        clients.dynamodb.create_table(**table_definition("poky-jobs"))
        yield DynamoJobStore(clients, "poky-jobs", ttl_days=7)


def new_job(created: float = 100.0, task: str = "sleep") -> Job:
    return Job(id=machine.new_job_id(created), task=task, inputs=("s3://poky-input/a",),
               output="s3://poky-output/x/", params={"seconds": 1}, created_at=created)


def test_round_trip_keeps_every_field(store: JobStore) -> None:
    job = new_job()
    store.create(job)
    assert store.get(job.id) == job
    with pytest.raises(Conflict):
        store.create(job)


def test_guarded_save_refuses_a_stale_writer(store: JobStore) -> None:
    job = new_job()
    store.create(job)
    starting = store.save(job, machine.begin_attempt(job, 101.0))
    assert starting.version == 1
    # A second writer still holding the queued record cannot start a second attempt.
    with pytest.raises(StaleWrite):
        store.save(job, machine.begin_attempt(job, 102.0))
    assert store.get(job.id).attempt == 1


def test_stale_event_cannot_move_a_finished_job_backwards(store: JobStore) -> None:
    job = new_job()
    store.create(job)
    starting = store.save(job, machine.begin_attempt(job, 101.0))
    done = store.save(starting, machine.finish(starting, ContainerExit(0), 103.0))
    assert done.status is JobStatus.SUCCEEDED
    # A late "running" from the container and a late progress report are both dropped.
    assert not store.mark_running(job.id, 1, 104.0)
    assert not store.set_progress(job.id, 1, {"done": 1, "total": 2, "message": ""})
    assert not store.set_outcome(job.id, 1, result=None, error={"reason": "x", "message": "y"})
    assert store.get(job.id).status is JobStatus.SUCCEEDED


def test_reports_of_an_old_attempt_are_dropped(store: JobStore) -> None:
    job = new_job()
    store.create(job)
    store.save(job, machine.begin_attempt(job, 101.0))
    assert not store.mark_running(job.id, 2, 102.0)
    assert store.mark_running(job.id, 1, 102.0)
    assert store.set_progress(job.id, 1, {"done": 1, "total": 2, "message": "half"})
    assert store.get(job.id).progress == {"done": 1, "total": 2, "message": "half"}


def test_concurrent_writers_exactly_one_wins(store: JobStore) -> None:
    if not isinstance(store, SqliteJobStore):
        pytest.skip("moto's in-process DynamoDB does not serialise threads; real conditional writes are "
                    "atomic, and the sequential stale-writer tests above check the condition itself")
    job = new_job()
    store.create(job)
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def race() -> None:
        barrier.wait()
        try:
            store.save(job, machine.begin_attempt(job, 101.0))
            outcomes.append("won")
        except StaleWrite:
            outcomes.append("lost")

    threads = [threading.Thread(target=race) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("won") == 1 and store.get(job.id).version == 1


def test_listing_is_newest_first_with_cursor_pages_and_filters(store: JobStore) -> None:
    jobs = [new_job(100.0 + i, task="sleep" if i % 2 else "compress") for i in range(7)]
    for job in jobs:
        store.create(job)
    seen, cursor = [], None
    while True:
        page, cursor = store.list(limit=3, cursor=cursor)
        seen.extend(j.id for j in page)
        if cursor is None:
            break
    assert seen == [j.id for j in reversed(jobs)]
    sleeps, _ = store.list(task="sleep", limit=10)
    assert [j.id for j in sleeps] == [j.id for j in reversed(jobs) if j.task == "sleep"]
    assert store.list(status=JobStatus.RUNNING, limit=10) == ([], None)
    with pytest.raises(BadRequest):
        store.list(cursor="%%%not-a-cursor", limit=3)


def test_a_second_process_sees_committed_writes(tmp_path: Path) -> None:
    first = SqliteJobStore(tmp_path / "jobs.sqlite3")
    job = new_job()
    first.create(job)
    assert SqliteJobStore(tmp_path / "jobs.sqlite3").get(job.id) == job


def test_dynamodb_finished_jobs_get_a_ttl(tmp_path: Path) -> None:
    from moto import mock_aws

    from poky_app.aws.clients import AwsClients
    from poky_app.aws.dynamodb_store import DynamoJobStore, table_definition

    with mock_aws():
        clients = AwsClients("us-east-1")
        clients.dynamodb.create_table(**table_definition("poky-jobs"))
        store = DynamoJobStore(clients, "poky-jobs", ttl_days=2)
        job = new_job()
        store.create(job)
        starting = store.save(job, machine.begin_attempt(job, 101.0))
        store.save(starting, machine.finish(starting, ContainerExit(0), 1000.0))
        item = clients.dynamodb.get_item(TableName="poky-jobs", Key={"id": {"S": job.id}})["Item"]
        assert int(item["expires_at"]["N"]) == 1000 + 2 * 86400


def test_idempotency_keys_bind_once_and_expire(store: JobStore) -> None:
    assert store.claim_idempotency_key("k", "hash-1", "JOB1", now=1000.0) is None
    assert store.claim_idempotency_key("k", "hash-2", "JOB2", now=1001.0) == ("JOB1", "hash-1")
    assert store.claim_idempotency_key("k", "hash-3", "JOB3", now=1000.0 + 2 * 86400) is None  # expired
    assert store.claim_idempotency_key("k", "hash-4", "JOB4", now=1000.0 + 2 * 86400 + 1) == ("JOB3", "hash-3")
    jobs, _ = store.list(limit=10)
    assert jobs == []  # bindings are not jobs


def test_queue_order_and_launched_counts(store: JobStore) -> None:
    jobs = [Job(**{**new_job(100.0 + i, task="sleep" if i % 2 else "compress").__dict__, "priority": p})
            for i, p in enumerate([0, 5, 0, 5, 1])]
    for job in jobs:
        store.create(job)
    assert [j.id for j in store.queued()] == [jobs[1].id, jobs[3].id, jobs[4].id, jobs[0].id, jobs[2].id]
    for job in jobs[:3]:
        store.save(job, machine.begin_attempt(job, 200.0))
    assert store.count_launched() == 3
    assert store.count_launched("compress") == 2 and store.count_launched("sleep") == 1
    assert [j.id for j in store.queued()] == [jobs[3].id, jobs[4].id]
