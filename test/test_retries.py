"""Retries: the policy (pure), retried attempts, retryable launch errors, POST /retry, start deadline."""

from __future__ import annotations

import os
import signal
import time

import pytest

from poky_app.errors import LaunchError
from poky_app.retry_policy import RetryPolicy, launch_backoff
from poky_app.service import JobService
from test.conftest import wait_for_job, wait_until


def test_policy_rules_and_backoff() -> None:
    policy = RetryPolicy.from_dict({"max_attempts": 3, "backoff_seconds": 10, "max_backoff_seconds": 25,
                                    "on_exit": [{"reasons": ["OutOfMemory", "Input*"], "action": "exit"},
                                                {"exit_codes": [3], "action": "exit"}]})
    assert policy.should_retry(1, 1, "NonZeroExit") and policy.should_retry(2, 137, "Killed")
    assert not policy.should_retry(3, 1, "NonZeroExit")  # attempts used up
    assert not policy.should_retry(1, 137, "OutOfMemory") and not policy.should_retry(1, 1, "InputMissing")
    assert not policy.should_retry(1, 3, "NonZeroExit") and not policy.should_retry(1, 143, "Cancelled")
    assert [policy.delay(n, lambda: 1.0) for n in (1, 2, 3)] == [10, 20, 25]
    assert policy.delay(1, lambda: 0.0) == 5  # jitter: half to all of the backoff
    assert launch_backoff(1, lambda: 1.0) == 1 and launch_backoff(10, lambda: 1.0) == 60
    with pytest.raises(ValueError):
        RetryPolicy.from_dict({"on_exit": [{"action": "maybe"}]})


def running_pid(service: JobService, job_id: str, attempt: int) -> int:
    job = wait_until(lambda: (j := service.get(job_id)).status.value == "running" and j.attempt == attempt
                     and j.launch and j, timeout=20)
    return job.launch["pid"]


def test_killed_containers_are_retried_per_policy_then_fail_with_the_reason(make_service) -> None:  # type: ignore[no-untyped-def]
    service = make_service(retry={"max_attempts": 3, "backoff_seconds": 0.2})
    job, _ = service.submit({"task": "sleep", "params": {"seconds": 60}})
    for attempt in (1, 2, 3):
        os.killpg(running_pid(service, job.id, attempt), signal.SIGKILL)
    done = wait_for_job(lambda: service.get(job.id).to_public())
    assert done["status"] == "failed" and done["error"]["reason"] == "Killed"
    assert [(a["number"], a["status"], a["error"]["reason"]) for a in done["attempts"]] == [
        (1, "failed", "Killed"), (2, "failed", "Killed"), (3, "failed", "Killed")]


def test_a_retried_job_can_succeed(make_service) -> None:  # type: ignore[no-untyped-def]
    service = make_service(retry={"max_attempts": 2, "backoff_seconds": 0.2})
    job, _ = service.submit({"task": "sleep", "params": {"seconds": 2}})
    os.killpg(running_pid(service, job.id, 1), signal.SIGKILL)
    queued = wait_until(lambda: (j := service.get(job.id)).status.value == "queued" and j)
    assert queued.to_public()["retry_at"] and queued.error["reason"] == "Killed"  # the reason shows meanwhile
    done = wait_for_job(lambda: service.get(job.id).to_public())
    assert done["status"] == "succeeded" and done["attempt"] == 2 and done["error"] is None


def test_retryable_launch_errors_do_not_use_up_attempts(make_service) -> None:  # type: ignore[no-untyped-def]
    service = make_service()
    real, failures = service.launcher.launch, [2]

    def flaky(job, task, env):  # type: ignore[no-untyped-def]
        if failures[0]:
            failures[0] -= 1
            raise LaunchError("ThrottlingException: Rate exceeded", reason="Throttled", retryable=True)
        return real(job, task, env)

    service.launcher.launch = flaky  # type: ignore[method-assign]
    job, _ = service.submit({"task": "sleep", "params": {"seconds": 0}})
    done = wait_for_job(lambda: service.get(job.id).to_public(), timeout=30)
    assert done["status"] == "succeeded" and done["attempt"] == 1
    assert [e["reason"] for e in done["attempts"][0]["launch_errors"]] == ["Throttled", "Throttled"]


def test_permanent_launch_errors_fail_at_once(make_service) -> None:  # type: ignore[no-untyped-def]
    service = make_service()

    def refused(job, task, env):  # type: ignore[no-untyped-def]
        raise LaunchError("AccessDeniedException: not authorized", reason="AccessDenied", hint="see iam-policy")

    service.launcher.launch = refused  # type: ignore[method-assign]
    job, _ = service.submit({"task": "sleep", "params": {"seconds": 0}})
    done = wait_for_job(lambda: service.get(job.id).to_public())
    assert done["status"] == "failed" and done["attempt"] == 1
    assert done["error"] == {"reason": "AccessDenied", "message": "AccessDeniedException: not authorized",
                             "hint": "see iam-policy"}


def test_retry_endpoint_runs_a_cancelled_job_again(client) -> None:  # type: ignore[no-untyped-def]
    job = client.post("/jobs", json={"task": "sleep", "params": {"seconds": 30}}).json
    wait_for_job(lambda: client.get(f"/jobs/{job['id']}").json, {"running"})
    client.post(f"/jobs/{job['id']}/cancel")
    wait_for_job(lambda: client.get(f"/jobs/{job['id']}").json)
    again = client.post(f"/jobs/{job['id']}/retry")
    assert again.status_code == 202 and again.json["attempt"] == 2 and again.json["status"] in ("starting", "running")
    client.post(f"/jobs/{job['id']}/cancel")
    done = wait_for_job(lambda: client.get(f"/jobs/{job['id']}").json)
    assert [a["status"] for a in done["attempts"]] == ["cancelled", "cancelled"]
    finished = client.post("/jobs", json={"task": "sleep", "params": {"seconds": 0}}).json
    wait_for_job(lambda: client.get(f"/jobs/{finished['id']}").json)
    assert client.post(f"/jobs/{finished['id']}/retry").status_code == 409
    assert client.post("/jobs/nope/retry").status_code == 404


def test_a_container_that_never_starts_running_hits_the_start_deadline(make_service) -> None:  # type: ignore[no-untyped-def]
    service = make_service(start_deadline_seconds=1, command=["python", "-c", "import time; time.sleep(60)"])
    job, _ = service.submit({"task": "sleep", "params": {"seconds": 1}})
    started = time.monotonic()
    done = wait_for_job(lambda: service.get(job.id).to_public(), timeout=20)
    assert done["status"] == "failed" and done["error"]["reason"] == "StartDeadlineExceeded"
    assert time.monotonic() - started < 10


def test_a_submit_whose_dispatch_fails_still_answers_with_the_queued_job(make_service) -> None:  # type: ignore[no-untyped-def]
    import threading

    service = make_service()
    real, failed = service.store.queued, []
    submitter = threading.current_thread()

    def failing_for_the_submitter():  # type: ignore[no-untyped-def]
        if threading.current_thread() is submitter and not failed:
            failed.append(True)
            raise OSError("the job store hiccuped")
        return real()

    service.store.queued = failing_for_the_submitter  # type: ignore[method-assign]
    job, created = service.submit({"task": "sleep", "params": {"seconds": 0}})
    assert failed and created and job.id  # the submit answered despite the failed dispatch
    assert wait_for_job(lambda: service.get(job.id).to_public())["status"] == "succeeded"  # the monitor starts it
