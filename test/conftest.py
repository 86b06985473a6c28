"""Shared fixtures. Everything local is real: SQLite, subprocesses, files, the HTTP server."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from poky_app.backends import build_service
from poky_app.service import JobService
from poky_app.settings import Settings, load_settings


@pytest.fixture(autouse=True)
def _no_cloud(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test may reach AWS: fake credentials and no config file, whatever the machine has."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    for name in ("POKY_URL", "POKY_BACKEND", "POKY_AUTH", "POKY_TASKS_FILE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings({"POKY_HOME": str(tmp_path / "home"), "POKY_CANCEL_GRACE_SECONDS": "3"})


@pytest.fixture
def service(settings: Settings) -> JobService:
    return build_service(settings)


@pytest.fixture
def app(settings: Settings, service: JobService):  # type: ignore[no-untyped-def]
    from poky_app.web import create_app

    return create_app(settings, service=service)


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def put_input(settings: Settings) -> Callable[[str, bytes], str]:
    """Place an object in the input bucket directly on disk; returns its s3:// URI."""

    def put(key: str, data: bytes) -> str:
        path = settings.buckets_dir / settings.input_bucket / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return f"s3://{settings.input_bucket}/{key}"

    return put


def object_path(settings: Settings, uri: str) -> Path:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return settings.buckets_dir / bucket / key


def wait_until(predicate: Callable[[], Any], timeout: float = 20.0, interval: float = 0.02) -> Any:
    """Poll until ``predicate`` returns something truthy; fail the test on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


TERMINAL = {"succeeded", "failed", "cancelled", "timed_out"}


def wait_for_job(fetch: Callable[[], dict[str, Any]], statuses: set[str] = TERMINAL,
                 timeout: float = 20.0) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        job = fetch()
        return job if job["status"] in statuses else None

    return wait_until(reached, timeout)


@pytest.fixture
def monitor_for() -> Iterator[Callable[[JobService], None]]:
    """Start the reconcile loop (as `poky serve` does) for a service; stopped after the test."""
    from poky_app.monitor import Monitor

    started: list[Monitor] = []

    def start(service: JobService) -> None:
        started.append(Monitor(service, 0.05))
        started[-1].start()

    yield start
    for monitor in started:
        monitor.stop()


@pytest.fixture
def make_service(tmp_path: Path, monitor_for) -> Callable[..., JobService]:  # type: ignore[no-untyped-def]
    """A service whose catalog's sleep task has the given settings, with its reconcile loop running."""

    def make(env: dict[str, str] | None = None, **sleep: object) -> JobService:
        import json

        from poky_app.settings import DEFAULT_TASKS_FILE

        catalog = json.loads(DEFAULT_TASKS_FILE.read_text())
        for task in catalog["tasks"]:
            if task["name"] == "sleep":
                task.update(sleep)
        tasks_file = tmp_path / "tasks.json"
        tasks_file.write_text(json.dumps(catalog))
        service = build_service(load_settings({"POKY_HOME": str(tmp_path / "home"), "POKY_TASKS_FILE": str(tasks_file),
                                               "POKY_CANCEL_GRACE_SECONDS": "2", **(env or {})}))
        monitor_for(service)
        return service

    return make


@pytest.fixture
def callback_server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A real HTTP server on loopback collecting the JSON bodies POSTed to it (job callbacks)."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/done", received
    server.shutdown()
