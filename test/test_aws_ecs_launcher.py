"""The ECS launcher and the EventBridge handler against moto."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from poky_app import jobs as machine
from poky_app.aws.clients import AwsClients
from poky_app.aws.ecs_launcher import EcsLauncher
from poky_app.aws.events import handle_task_state_change
from poky_app.catalog import load_catalog
from poky_app.jobs import Job
from poky_app.settings import load_settings
from test.aws_fixtures import REGION, create_ecs, end_task, frozen_ecs_tasks

TASK = load_catalog(load_settings({"POKY_HOME": "/nonexistent"})).get("compress")


@pytest.fixture
def aws() -> Iterator[AwsClients]:
    with mock_aws(), frozen_ecs_tasks():
        yield AwsClients(REGION)


@pytest.fixture
def launcher(aws: AwsClients) -> EcsLauncher:
    aws.logs.create_log_group(logGroupName="/poky/jobs")
    return EcsLauncher(aws, create_ecs(aws), "/poky/jobs", "poky", sleep=lambda s: None)


def job(attempt: int = 1) -> Job:
    return Job(id=machine.new_job_id(), task="compress", inputs=(), output="s3://poky-output/x/", params={},
               created_at=time.time(), attempt=attempt)


def test_launch_runs_one_task_with_the_contract(aws: AwsClients, launcher: EcsLauncher) -> None:
    the_job = job()
    handle = launcher.launch(the_job, TASK, {"POKY_JOB_ID": the_job.id, "POKY_ATTEMPT": "1"})
    [task] = aws.ecs.describe_tasks(cluster="poky", tasks=[handle["task_arn"]])["tasks"]
    assert task["startedBy"] == the_job.id
    [override] = task["overrides"]["containerOverrides"]
    assert {"name": "POKY_JOB_ID", "value": the_job.id} in override["environment"]
    assert launcher.find(the_job.id, 1) == handle and launcher.find(the_job.id, 2) is None


def test_a_launch_retried_after_a_lost_response_adopts_the_task(aws: AwsClients, launcher: EcsLauncher) -> None:
    the_job = job()
    env = {"POKY_JOB_ID": the_job.id, "POKY_ATTEMPT": "1"}
    first = launcher.launch(the_job, TASK, env)  # ...whose answer, say, never arrived
    lost = {"reason": "ServiceError", "message": "ConnectionError: Read timeout", "hint": ""}
    retried = Job(**{**the_job.__dict__, "attempts": ({"number": 1, "launch_errors": [lost]},)})
    assert launcher.launch(retried, TASK, env) == first  # moto ignores clientToken; we do not
    assert len(aws.ecs.list_tasks(cluster="poky", startedBy=the_job.id)["taskArns"]) == 1


def test_describe_in_batches_and_exit_codes(launcher: EcsLauncher) -> None:
    jobs = [job() for _ in range(3)]
    handles = [launcher.launch(j, TASK, {"POKY_ATTEMPT": "1"}) for j in jobs]
    assert launcher.describe(handles) == [None, None, None]
    end_task(handles[1]["task_arn"], 137, "OutOfMemoryError: Container killed due to memory usage")
    running, ended, _ = launcher.describe(handles)
    assert running is None and ended.exit_code == 137 and ended.failure.reason == "OutOfMemory"
    assert ended.details["task_arn"] == handles[1]["task_arn"]
    gone = launcher.describe([{"task_arn": "arn:aws:ecs:us-east-1:123456789012:task/poky/0000"}])[0]
    assert gone.exit_code is None and "no longer knows" in gone.stop_reason


def test_launch_errors_are_classified(aws: AwsClients, launcher: EcsLauncher) -> None:
    from poky_app.errors import LaunchError

    launcher.target = launcher.target.__class__(**{**launcher.target.__dict__, "cluster": "missing"})
    with pytest.raises(LaunchError) as caught:
        launcher.launch(job(), TASK, {})
    assert not caught.value.retryable and caught.value.hint


def test_stop_of_unknown_task_is_harmless(launcher: EcsLauncher) -> None:
    launcher.stop({"cluster": "poky", "task_arn": "arn:aws:ecs:us-east-1:123456789012:task/poky/nope"}, force=False)


def test_logs_page_through_cloudwatch(aws: AwsClients, launcher: EcsLauncher) -> None:
    the_job = job()
    handle = launcher.launch(the_job, TASK, {"POKY_ATTEMPT": "1"})
    the_job = machine.record_launch(Job(**{**the_job.__dict__, "status": machine.JobStatus.RUNNING}), handle)
    assert launcher.read_logs(the_job, None, 10) == ([], "")  # no stream yet
    stream = launcher.log_stream(handle["task_arn"])
    aws.logs.create_log_stream(logGroupName="/poky/jobs", logStreamName=stream)
    now = int(time.time() * 1000)
    aws.logs.put_log_events(logGroupName="/poky/jobs", logStreamName=stream,
                            logEvents=[{"timestamp": now + i, "message": f"line {i}"} for i in range(5)])
    lines, cursor = launcher.read_logs(the_job, None, 3)
    assert lines == ["line 0", "line 1", "line 2"]
    lines, cursor = launcher.read_logs(the_job, cursor, 10)
    assert lines == ["line 3", "line 4"]
    assert launcher.read_logs(the_job, cursor, 10)[0] == []


def event(job_id: str, task_arn: str, version: int, status: str, exit_code: int | None = None) -> dict:
    containers = [{"name": "runner", **({"exitCode": exit_code} if exit_code is not None else {})}]
    return {"source": "aws.ecs", "detail-type": "ECS Task State Change",
            "detail": {"startedBy": job_id, "taskArn": task_arn, "version": version, "lastStatus": status,
                       "stopCode": "EssentialContainerExited" if status == "STOPPED" else "",
                       "containers": containers}}


def test_events_move_jobs_and_stale_ones_are_dropped(aws: AwsClients, launcher: EcsLauncher,
                                                     tmp_path: Path) -> None:
    from poky_app.aws.dynamodb_store import DynamoJobStore, table_definition
    from poky_app.aws.s3_storage import S3Storage
    from poky_app.service import JobService

    aws.dynamodb.create_table(**table_definition("poky-jobs"))
    aws.s3.create_bucket(Bucket="poky-input")
    aws.s3.put_object(Bucket="poky-input", Key="a.txt", Body=b"a")
    settings = load_settings({"POKY_HOME": str(tmp_path)})
    service = JobService(settings, load_catalog(settings), DynamoJobStore(aws, "poky-jobs"), S3Storage(aws), launcher)
    submitted, _ = service.submit({"task": "compress", "inputs": ["s3://poky-input/a.txt"]})
    arn = service.get(submitted.id).launch["task_arn"]

    assert "running" in handle_task_state_change(service, event(submitted.id, arn, 2, "RUNNING"), "runner")
    assert service.get(submitted.id).status.value == "running"
    assert "stale" in handle_task_state_change(service, event(submitted.id, arn, 1, "PENDING"), "runner")
    assert "stopped" in handle_task_state_change(service, event(submitted.id, arn, 5, "STOPPED", 137), "runner")
    done = service.get(submitted.id)
    assert done.status.value == "failed" and done.error["reason"] == "OutOfMemory"
    assert done.attempts[-1]["task_arn"] == arn  # the final details are kept
    # A duplicate, or a late "RUNNING", changes nothing now.
    handle_task_state_change(service, event(submitted.id, arn, 5, "STOPPED", 0), "runner")
    handle_task_state_change(service, event(submitted.id, arn, 9, "RUNNING"), "runner")
    assert service.get(submitted.id).status.value == "failed"
    assert "not a Poky task" in handle_task_state_change(service, event("nope", arn, 1, "RUNNING"), "runner")


def test_describe_goes_100_tasks_at_a_time(aws: AwsClients, launcher: EcsLauncher) -> None:
    handles = [launcher.launch(job(), TASK, {"POKY_ATTEMPT": "1"}) for _ in range(101)]
    calls: list[int] = []
    real = aws.ecs.describe_tasks

    def counting(**kwargs):  # type: ignore[no-untyped-def]
        calls.append(len(kwargs["tasks"]))
        return real(**kwargs)

    aws.ecs.describe_tasks = counting
    end_task(handles[100]["task_arn"], 3)
    exits = launcher.describe(handles)
    assert calls == [100, 1]
    assert exits[:100] == [None] * 100 and exits[100].exit_code == 3


def test_log_reads_back_off_on_throttling(aws: AwsClients, tmp_path: Path) -> None:
    from botocore.exceptions import ClientError

    aws.logs.create_log_group(logGroupName="/poky/jobs")
    slept: list[float] = []
    launcher = EcsLauncher(aws, create_ecs(aws), "/poky/jobs", "poky", sleep=slept.append)
    the_job = job()
    handle = launcher.launch(the_job, TASK, {"POKY_ATTEMPT": "1"})
    the_job = machine.record_launch(Job(**{**the_job.__dict__, "status": machine.JobStatus.RUNNING}), handle)
    stream = launcher.log_stream(handle["task_arn"])
    aws.logs.create_log_stream(logGroupName="/poky/jobs", logStreamName=stream)
    aws.logs.put_log_events(logGroupName="/poky/jobs", logStreamName=stream,
                            logEvents=[{"timestamp": int(time.time() * 1000), "message": "hello"}])
    real, failures = aws.logs.get_log_events, [2]

    def throttled(**kwargs):  # type: ignore[no-untyped-def]
        if failures[0]:
            failures[0] -= 1
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "GetLogEvents")
        return real(**kwargs)

    aws.logs.get_log_events = throttled
    assert launcher.read_logs(the_job, None, 10)[0] == ["hello"]
    assert slept == [0.2, 0.4]
