"""End to end on the embedded default: `poky serve` as a real process on a loopback port, driven by
the real `poky` CLI, then killed with SIGKILL mid-job and restarted."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from poky_app import jobs as machine
from poky_app.jobs import Job, JobStatus
from poky_app.local.sqlite_store import SqliteJobStore
from poky_app.settings import PROJECT_ROOT
from test.conftest import TERMINAL, wait_for_job, wait_until

GRACE_SECONDS = 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """One `poky serve` process over a POKY_HOME that outlives it (as a real deployment's does)."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "POKY_HOME": str(home), "POKY_URL": self.url,
                    "POKY_CANCEL_GRACE_SECONDS": str(GRACE_SECONDS), "POKY_MONITOR_INTERVAL_SECONDS": "0.1",
                    "PYTHONPATH": str(PROJECT_ROOT)}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "poky_app", "serve", "--port", str(self.port)], env=self.env,
            cwd=self.home.parent, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self._healthy, timeout=30, interval=0.05)

    def _healthy(self) -> bool:
        assert self.process and self.process.poll() is None, "poky serve exited"
        try:
            return requests.get(self.url + "/healthz", timeout=1).ok
        except requests.ConnectionError:
            return False

    def kill(self) -> None:
        assert self.process
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def job(self, job_id: str) -> dict:
        return requests.get(f"{self.url}/jobs/{job_id}", timeout=10).json()

    def poky(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([sys.executable, "-m", "poky_app", *args], env=self.env, capture_output=True,
                                text=True, timeout=60)
        if check:
            assert result.returncode == 0, result.stdout + result.stderr
        return result


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path / "home")
    running.start()
    yield running
    if running.process and running.process.poll() is None:
        running.kill()
    # Jobs run in their own sessions and outlive the server on purpose; end this test's ones.
    store = SqliteJobStore(running.home / "jobs.sqlite3")
    for job in store.active():
        if job.launch:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(job.launch["pid"], signal.SIGKILL)


def test_a_job_through_the_cli(server: Server, tmp_path: Path) -> None:
    source = tmp_path / "measurements.csv"
    source.write_bytes(b"t,value\n" + b"".join(b"%d,%d\n" % (i, i * i) for i in range(50_000)))
    assert "uploaded" in server.poky("upload", str(source), "s3://poky-input/m/measurements.csv").stdout
    assert "copy_rename" in server.poky("tasks").stdout

    waited = server.poky("submit", "copy_rename", "--input", "s3://poky-input/m/measurements.csv", "--wait")
    assert "succeeded" in waited.stdout
    output = next(line.split()[-1] for line in waited.stdout.splitlines() if "output:" in line)
    assert output.startswith("s3://poky-output/") and "/measurements_" in output

    copy = tmp_path / "copy.csv"
    server.poky("download", output, str(copy))
    assert copy.read_bytes() == source.read_bytes()

    job_id = output.split("/")[3]
    status = json.loads(server.poky("status", job_id, "--json").stdout)
    assert status["status"] == "succeeded" and status["result"]["outputs"] == [output]
    assert job_id in server.poky("list").stdout
    assert "succeeded with 1 output(s)" in server.poky("logs", job_id).stdout

    collection = tmp_path / "poky.postman_collection.json"
    server.poky("postman", "--output", str(collection))
    assert json.loads(collection.read_text())["variable"] == [{"key": "baseUrl", "value": server.url}]


def test_failures_are_explained_by_the_cli(server: Server) -> None:
    bad = server.poky("submit", "compress", "--input", "s3://poky-input/../x", "--param", "level=11", check=False)
    assert bad.returncode == 1
    assert "/inputs/0" in bad.stderr and "/params/level" in bad.stderr
    assert "unknown task" in server.poky("submit", "nope", check=False).stderr
    offline = subprocess.run([sys.executable, "-m", "poky_app", "--url", f"http://127.0.0.1:{free_port()}", "list"],
                             env=server.env, capture_output=True, text=True, timeout=60)
    assert offline.returncode == 1 and "cannot reach Poky" in offline.stderr


def test_cancel_a_running_job_through_the_cli(server: Server) -> None:
    job = json.loads(server.poky("submit", "sleep", "--param", "seconds=120", "--json").stdout)
    wait_for_job(lambda: server.job(job["id"]), {"running"})
    asked = time.monotonic()
    server.poky("cancel", job["id"])
    done = wait_for_job(lambda: server.job(job["id"]), timeout=GRACE_SECONDS + 5)
    assert done["status"] == "cancelled"
    assert time.monotonic() - asked < GRACE_SECONDS + 1
    followed = server.poky("logs", job["id"], "--follow")
    assert "stopped on request" in followed.stdout


def test_a_container_killed_with_sigkill_fails_with_the_reason(server: Server) -> None:
    job = json.loads(server.poky("submit", "sleep", "--param", "seconds=120", "--json").stdout)
    running = wait_for_job(lambda: server.job(job["id"]), {"running"})
    pid = SqliteJobStore(server.home / "jobs.sqlite3").get(running["id"]).launch["pid"]
    os.killpg(pid, signal.SIGKILL)
    done = wait_for_job(lambda: server.job(job["id"]))
    assert done["status"] == "failed"
    assert done["error"]["reason"] == "Killed" and "exit 137" in done["error"]["message"]


def test_kill_9_and_restart_loses_and_duplicates_nothing(server: Server) -> None:
    submit = lambda seconds: json.loads(  # noqa: E731
        server.poky("submit", "sleep", "--param", f"seconds={seconds}", "--json").stdout)["id"]
    outlives = submit(4)       # still running after the restart: re-adopted, then succeeds
    cancel_later = submit(120)  # still running: re-adopted, then cancelled through the new server
    ends_while_down = submit(1)  # finishes while no server is watching
    for job_id in (outlives, cancel_later, ends_while_down):
        wait_for_job(lambda job_id=job_id: server.job(job_id), {"running"})
    server.kill()

    # Two crash windows a SIGKILL can leave behind: a job recorded but never launched, and an
    # attempt recorded whose container was never started.
    store = SqliteJobStore(server.home / "jobs.sqlite3")
    never_launched = Job(id=machine.new_job_id(), task="sleep", inputs=(), output="s3://poky-output/q/",
                         params={"seconds": 0}, created_at=time.time())
    store.create(never_launched)
    half_launched = Job(id=machine.new_job_id(), task="sleep", inputs=(), output="s3://poky-output/h/",
                        params={"seconds": 0}, created_at=time.time())
    store.create(half_launched)
    store.save(half_launched, machine.begin_attempt(half_launched, time.time()))
    time.sleep(1.5)  # ends_while_down ends now

    server.start()
    expected = {outlives: "succeeded", ends_while_down: "succeeded", never_launched.id: "succeeded",
                half_launched.id: "succeeded"}
    for job_id, status in expected.items():
        assert wait_for_job(lambda job_id=job_id: server.job(job_id))["status"] == status, job_id
    assert server.job(cancel_later)["status"] == "running"
    server.poky("cancel", cancel_later)
    assert wait_for_job(lambda: server.job(cancel_later), timeout=GRACE_SECONDS + 5)["status"] == "cancelled"

    jobs = requests.get(f"{server.url}/jobs?limit=200", timeout=10).json()["jobs"]
    assert len(jobs) == 5 and all(job["status"] in TERMINAL for job in jobs)
    for job in jobs:  # each ran exactly once: one attempt, one container start in its log
        assert job["attempt"] == 1, job
        log = (server.home / "logs" / job["id"] / "attempt-1.log").read_text()
        assert log.count("[poky runner] job ") == 1, log
    assert all(j.status in {JobStatus(s) for s in TERMINAL} for j in store.list(limit=10)[0])
