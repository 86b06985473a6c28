"""The control plane SIGKILLed at random moments while 100 jobs go through it: none lost, none run
twice. The client resubmits with its Idempotency-Key whenever the server is gone, as a real client
would; every container's start is counted from the line the runner prints when it begins."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import requests

from test.conftest import TERMINAL, wait_until
from test.test_e2e_local import Server

JOBS = 100


def submit_until_accepted(server: Server, key: str, body: dict) -> str:
    while True:
        try:
            response = requests.post(f"{server.url}/jobs", json=body, headers={"Idempotency-Key": key}, timeout=5)
        except requests.RequestException:
            time.sleep(0.05)  # the server is down: try again, with the same key
            continue
        if response.status_code in (200, 202):
            return response.json()["id"]
        time.sleep(0.05)


def test_kill_9_at_random_points_of_100_jobs(tmp_path: Path) -> None:
    server = Server(tmp_path / "home")
    server.start()
    chaos = random.Random(2026)
    submitting = threading.Event()
    submitting.set()
    kills: list[float] = []

    def killer() -> None:
        while submitting.is_set():
            time.sleep(chaos.uniform(0.2, 1.2))
            server.kill()
            kills.append(time.monotonic())
            server.start()

    thread = threading.Thread(target=killer)
    thread.start()
    try:
        bodies = [{"task": "sleep", "params": {"seconds": round(chaos.uniform(0, 1), 2)}} for _ in range(JOBS)]
        ids = {submit_until_accepted(server, f"chaos-{i}", body) for i, body in enumerate(bodies)}
    finally:
        submitting.clear()
        thread.join()
    assert len(kills) >= 3 and len(ids) == JOBS

    def all_done() -> list[dict] | None:
        try:
            jobs = requests.get(f"{server.url}/jobs?limit=200", timeout=5).json()["jobs"]
        except requests.RequestException:
            return None
        return jobs if all(j["status"] in TERMINAL for j in jobs) else None

    jobs = wait_until(all_done, timeout=120, interval=0.2)
    try:
        assert {j["id"] for j in jobs} == ids  # nothing lost, nothing extra
        assert all(j["status"] == "succeeded" for j in jobs), [j for j in jobs if j["status"] != "succeeded"]
        for job in jobs:
            starts = sum(path.read_text().count("[poky runner] job ")
                         for path in (server.home / "logs" / job["id"]).glob("attempt-*.log"))
            assert starts == 1, (job["id"], starts)
    finally:
        server.kill()
