"""Admission control: never more than N running, queued jobs start in priority then FIFO order."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from poky_app.jobs import LAUNCHED
from poky_app.token_bucket import TokenBucket
from test.conftest import wait_for_job


def live_processes(home: Path, job_ids: list[str]) -> int:
    """Containers actually running now, found by their environment (as the launcher re-adopts them)."""
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if any(f"POKY_JOB_ID={job_id}".encode() in environ for job_id in job_ids) and \
                    b"POKY_HOME=" + str(home).encode() in environ:
                count += 1
    return count


def test_at_most_n_run_and_the_queue_goes_by_priority_then_age(make_service) -> None:  # type: ignore[no-untyped-def]
    service = make_service(max_running=2)
    blockers = [service.submit({"task": "sleep", "params": {"seconds": 1.5}})[0] for _ in range(2)]
    waiting = [service.submit({"task": "sleep", "params": {"seconds": 0.3}, "priority": priority})[0]
               for priority in (0, 5, 0, 5, 1)]
    assert all(service.get(j.id).status.value == "queued" for j in waiting)  # no room yet

    ids = [j.id for j in blockers + waiting]
    peak = {"store": 0, "processes": 0}
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            running = sum(1 for j in service.store.active() if j.status in LAUNCHED)
            peak["store"] = max(peak["store"], running)
            peak["processes"] = max(peak["processes"], live_processes(service.settings.home, ids))
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        done = [wait_for_job(lambda j=j: service.get(j.id).to_public(), timeout=30) for j in blockers + waiting]
    finally:
        stop.set()
        watcher.join()
    assert all(d["status"] == "succeeded" for d in done)
    assert peak["store"] == 2 and 1 <= peak["processes"] <= 2
    began = sorted(waiting, key=lambda j: service.get(j.id).attempts[0]["began"])
    assert [j.priority for j in began] == [5, 5, 1, 0, 0]
    assert [j.id for j in began if j.priority == 5] == [waiting[1].id, waiting[3].id]  # FIFO within a priority
    assert [j.id for j in began if j.priority == 0] == [waiting[0].id, waiting[2].id]


def test_the_global_cap_holds_across_task_types(make_service, put_input) -> None:  # type: ignore[no-untyped-def]
    service = make_service(env={"POKY_MAX_RUNNING": "1"})
    first = service.submit({"task": "sleep", "params": {"seconds": 1}})[0]
    second = service.submit({"task": "sleep", "params": {"seconds": 0}})[0]
    assert service.get(second.id).status.value == "queued"
    assert wait_for_job(lambda: service.get(second.id).to_public())["status"] == "succeeded"
    assert service.get(second.id).attempts[0]["began"] >= service.get(first.id).finished_at


def test_token_bucket_paces_and_drains() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=20, burst=100, clock=lambda: now[0])
    assert sum(bucket.take() for _ in range(150)) == 100  # the burst
    now[0] += 0.5
    assert sum(bucket.take() for _ in range(50)) == 10  # then 20 a second
    now[0] += 10
    bucket.drain()
    assert not bucket.take()
    now[0] += 0.125
    assert sum(bucket.take() for _ in range(5)) == 2
