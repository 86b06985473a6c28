"""Many jobs against moto while a share of ECS calls fail: does every job end, launched once?

The scenario bench/reliability.py reports on (1,000 jobs) and test_reliability.py checks (fewer).
The driver plays Fargate: each pass it ends every running task with exit 0 (through moto's own
state, outside the injected faults), then runs the control plane's reconcile pass.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from typing import Any

from moto import mock_aws

from poky_app.aws.bootstrap import Bootstrap, Names
from poky_app.aws.clients import AwsClients
from poky_app.backends import build_service
from poky_app.settings import load_settings
from test.aws_fixtures import REGION, end_task, frozen_ecs_tasks
from test.faults import FaultInjector


def _moto_tasks() -> list[Any]:
    from moto.backends import get_backend
    from moto.core import DEFAULT_ACCOUNT_ID

    backend = get_backend("ecs")[DEFAULT_ACCOUNT_ID][REGION]
    return [task for tasks in backend.tasks.values() for task in tasks.values()]


def run_scenario(jobs: int, failure_rate: float, *, seed: int = 7, timeout: float = 900) -> dict[str, Any]:
    with mock_aws(), frozen_ecs_tasks(), tempfile.TemporaryDirectory() as home:
        clients = AwsClients(REGION)
        written = Bootstrap(clients, Names(input_bucket="poky-in", output_bucket="poky-out"), dry_run=False,
                            say=lambda line: None).run("poky-runner:1")
        settings = load_settings({**written, "POKY_AUTH": "off", "POKY_HOME": home,
                                  "POKY_MAX_RUNNING": str(jobs), "POKY_LAUNCH_RATE": "1000",
                                  "POKY_LAUNCH_BURST": "1000", "POKY_LAUNCH_RETRY_BASE_SECONDS": "0.01",
                                  "POKY_LAUNCH_RETRY_MAX_SECONDS": "0.2"})
        service = build_service(settings)
        injector = FaultInjector(failure_rate, seed=seed).attach(service.launcher.clients)
        started = time.monotonic()
        ids = [service.submit({"task": "sleep", "params": {"seconds": 0}})[0].id for _ in range(jobs)]
        submitted_in = time.monotonic() - started
        passes = 0
        while time.monotonic() - started < timeout:
            for task in _moto_tasks():
                if task.last_status != "STOPPED":
                    end_task(task.task_arn, 0)
            service.reconcile()
            passes += 1
            if not service.store.active():
                break
        elapsed = time.monotonic() - started
        tasks_per_job = Counter(task.started_by for task in _moto_tasks())
        records = {job_id: service.store.get(job_id) for job_id in ids}
        statuses = Counter(record.status.value for record in records.values() if record)
        failures = Counter((record.error or {}).get("reason") for record in records.values()
                           if record and record.status.value != "succeeded")
        return {
            "submitted": jobs,
            "launched": sum(1 for job_id in ids if tasks_per_job[job_id] >= 1),
            "duplicates": sum(1 for job_id in ids if tasks_per_job[job_id] > 1),
            "lost": sum(1 for record in records.values() if record is None),
            "unfinished": sum(1 for record in records.values() if record and not record.status.terminal),
            "statuses": dict(statuses),
            "failure_reasons": dict(failures),
            "ecs_calls": sum(injector.calls.values()),
            "injected": dict(injector.counts),
            "passes": passes,
            "submit_seconds": round(submitted_in, 1),
            "seconds": round(elapsed, 1),
        }
