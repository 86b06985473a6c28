"""A job that outlives its task type's timeout is stopped and ends timed_out."""

from __future__ import annotations

import json
from pathlib import Path

from poky_app.backends import build_service
from poky_app.settings import DEFAULT_TASKS_FILE, load_settings
from test.conftest import wait_for_job


def test_job_past_its_timeout_is_stopped_and_timed_out(tmp_path: Path, monitor_for) -> None:  # type: ignore[no-untyped-def]
    catalog = json.loads(DEFAULT_TASKS_FILE.read_text())
    for task in catalog["tasks"]:
        if task["name"] == "sleep":
            task["timeout_seconds"] = 1
    tasks_file = tmp_path / "tasks.json"
    tasks_file.write_text(json.dumps(catalog))
    service = build_service(load_settings({"POKY_HOME": str(tmp_path / "home"), "POKY_TASKS_FILE": str(tasks_file),
                                           "POKY_CANCEL_GRACE_SECONDS": "2"}))
    monitor_for(service)
    job, _ = service.submit({"task": "sleep", "params": {"seconds": 60}})
    done = wait_for_job(lambda: service.get(job.id).to_public(), timeout=15)
    assert done["status"] == "timed_out"
    assert done["error"]["reason"] == "Timeout" and "timeout_seconds" in done["error"]["hint"]
    assert done["attempts"][-1]["exit_code"] == 143  # it took the SIGTERM and stopped cleanly
