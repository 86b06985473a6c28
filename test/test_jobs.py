"""The state machine: allowed moves, refused moves, and how an exit becomes a terminal state."""

from __future__ import annotations

import pytest

from poky_app import jobs as machine
from poky_app.errors import InvalidTransition
from poky_app.jobs import ContainerExit, Job, JobStatus


def queued() -> Job:
    return Job(id=machine.new_job_id(100.0), task="sleep", inputs=(), output="s3://poky-output/x/",
               params={}, created_at=100.0)


def running() -> Job:
    return machine.mark_running(machine.begin_attempt(queued(), 101.0), 102.0)


def test_begin_attempt_numbers_attempts_and_records_them() -> None:
    job = machine.begin_attempt(queued(), 101.0)
    assert job.status is JobStatus.STARTING
    assert job.attempt == 1
    assert job.attempts[-1]["number"] == 1 and job.attempts[-1]["status"] == "starting"


@pytest.mark.parametrize("status", [JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED,
                                    JobStatus.TIMED_OUT])
def test_terminal_jobs_never_move_again(status: JobStatus) -> None:
    done = Job(**{**queued().__dict__, "status": status})
    with pytest.raises(InvalidTransition):
        machine.begin_attempt(done, 1.0)
    with pytest.raises(InvalidTransition):
        machine.mark_running(done, 1.0)
    with pytest.raises(InvalidTransition):
        machine.finish(done, ContainerExit(0), 1.0)
    with pytest.raises(InvalidTransition):
        machine.request_stop(done, machine.STOP_CANCEL, 1.0)


def test_running_cannot_go_back_to_starting_or_queued() -> None:
    with pytest.raises(InvalidTransition):
        machine.begin_attempt(running(), 1.0)
    with pytest.raises(InvalidTransition):
        machine.mark_running(running(), 1.0)


def test_exit_zero_succeeds_and_keeps_the_reported_result() -> None:
    job = Job(**{**running().__dict__, "result": {"outputs": ["s3://poky-output/x/a"]}})
    done = machine.finish(job, ContainerExit(0), 110.0)
    assert done.status is JobStatus.SUCCEEDED
    assert done.result == {"outputs": ["s3://poky-output/x/a"]}
    assert done.error is None
    assert done.attempts[-1]["exit_code"] == 0 and done.attempts[-1]["status"] == "succeeded"


def test_exit_137_is_out_of_memory_with_a_hint() -> None:
    done = machine.finish(running(), ContainerExit(137, "killed by SIGKILL"), 110.0)
    assert done.status is JobStatus.FAILED
    assert done.error["reason"] == "OutOfMemory"
    assert "memory" in done.error["hint"]


def test_reported_failure_wins_over_the_bare_exit_code() -> None:
    error = {"reason": "InputMissing", "message": "no object", "hint": "upload it"}
    done = machine.finish(Job(**{**running().__dict__, "error": error}), ContainerExit(1), 110.0)
    assert done.error == error


def test_stop_requests_decide_cancelled_and_timed_out() -> None:
    cancelled = machine.finish(machine.request_stop(running(), machine.STOP_CANCEL, 105.0),
                               ContainerExit(143), 106.0)
    timed_out = machine.finish(machine.request_stop(running(), machine.STOP_TIMEOUT, 105.0),
                               ContainerExit(143), 106.0)
    assert cancelled.status is JobStatus.CANCELLED
    assert timed_out.status is JobStatus.TIMED_OUT and timed_out.error["reason"] == "Timeout"


def test_job_that_finished_anyway_after_a_cancel_request_succeeds() -> None:
    job = machine.request_stop(running(), machine.STOP_CANCEL, 105.0)
    assert machine.finish(job, ContainerExit(0), 106.0).status is JobStatus.SUCCEEDED


def test_unseen_exit_uses_what_the_container_reported() -> None:
    with_result = Job(**{**running().__dict__, "result": {"outputs": []}})
    assert machine.finish(with_result, ContainerExit(None), 110.0).status is JobStatus.SUCCEEDED
    lost = machine.finish(running(), ContainerExit(None), 110.0)
    assert lost.status is JobStatus.FAILED and lost.error["reason"] == "ContainerLost"


def test_queued_job_cancels_at_once() -> None:
    job = machine.cancel_queued(queued(), 101.0)
    assert job.status is JobStatus.CANCELLED and job.finished_at == 101.0


def test_job_ids_sort_by_creation_time() -> None:
    ids = [machine.new_job_id(t) for t in (1.0, 2.0, 3.0, 1000.0)]
    assert ids == sorted(ids) and len(set(ids)) == 4 and all(len(i) == 26 for i in ids)


def test_public_view_has_the_contract_fields() -> None:
    view = running().to_public()
    for field in ("id", "task", "status", "inputs", "output", "params", "attempts", "created_at",
                  "started_at", "finished_at", "progress", "result", "error"):
        assert field in view
    assert view["created_at"].endswith("Z")
