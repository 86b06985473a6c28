"""The Lambda zip `make package` builds, run as Lambda would run it: unzipped, in a fresh interpreter
whose path holds only the zip's contents and boto3 (which the Lambda runtime provides), with a moto
server on loopback standing in for AWS. Every kind of event goes through the one handler."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from poky_app.aws.bootstrap import Bootstrap, Names
from poky_app.aws.clients import AwsClients
from poky_app.settings import PROJECT_ROOT
from test.aws_fixtures import REGION, frozen_ecs_tasks
from test.test_e2e_local import free_port

ZIP = PROJECT_ROOT / "dist" / "poky-lambda.zip"
# What the Lambda Python runtime ships besides the standard library.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")

DRIVER = """
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
from poky_app.lambda_entry import handler
for line in open(sys.argv[3]):
    print(json.dumps(handler(json.loads(line), None)), flush=True)
"""


def http_v2(method: str, path: str, body: dict | None = None) -> dict:
    return {"version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
            "headers": {"host": "api.example.com", "content-type": "application/json"},
            "requestContext": {"http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                                        "sourceIp": "192.0.2.1", "userAgent": "test"},
                               "domainName": "api.example.com", "stage": "$default"},
            "body": json.dumps(body) if body is not None else None, "isBase64Encoded": False}


def http_v1(method: str, path: str) -> dict:
    return {"httpMethod": method, "path": path, "headers": {"Host": "api.example.com"},
            "multiValueHeaders": {"Host": ["api.example.com"]}, "queryStringParameters": None,
            "multiValueQueryStringParameters": None, "requestContext": {"stage": "dev", "path": path},
            "body": None, "isBase64Encoded": False}


def scheduled() -> dict:
    return {"time": "2026-11-23T20:00:00Z", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "region": REGION, "detail": {}, "version": "0", "resources": [],
            "id": "1", "kwargs": {}}


def task_stopped(job_id: str, task_arn: str) -> dict:
    return {"source": "aws.ecs", "detail-type": "ECS Task State Change",
            "detail": {"startedBy": job_id, "taskArn": task_arn, "version": 3, "lastStatus": "STOPPED",
                       "stopCode": "EssentialContainerExited",
                       "containers": [{"name": "runner", "exitCode": 0}]}}


@pytest.fixture
def lambda_root(tmp_path: Path) -> Path:
    assert ZIP.is_file(), "run `make package` first (make test does)"
    root = tmp_path / "task"
    with zipfile.ZipFile(ZIP) as archive:
        archive.extractall(root)
    return root


@pytest.fixture
def runtime_packages(tmp_path: Path) -> Path:
    """boto3 and its dependencies, and nothing else from this environment."""
    import boto3

    site = Path(boto3.__file__).parent.parent
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    for name in RUNTIME_PACKAGES:
        (runtime / name).symlink_to(site / name)
    return runtime


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, AwsClients, dict[str, str]]]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port())
    server.start()
    endpoint = f"http://127.0.0.1:{server.get_host_and_port()[1]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    try:
        with frozen_ecs_tasks():
            clients = AwsClients(REGION)
            settings = Bootstrap(clients, Names(input_bucket="poky-in", output_bucket="poky-out"), dry_run=False,
                                 say=lambda line: None).run("poky-runner:1")
            yield endpoint, clients, settings
    finally:
        server.stop()


def test_the_packaged_handler_serves_every_event(lambda_root: Path, runtime_packages: Path, aws,  # type: ignore[no-untyped-def]
                                                 tmp_path: Path) -> None:
    endpoint, clients, settings = aws
    clients.s3.put_object(Bucket="poky-in", Key="a.txt", Body=b"hello")
    events = tmp_path / "events.jsonl"

    def invoke(*batch: dict) -> list[dict]:
        events.write_text("".join(json.dumps(e) + "\n" for e in batch))
        env = {**settings, "POKY_AUTH": "off", "AWS_ENDPOINT_URL": endpoint, "AWS_REGION": REGION,
               "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "PATH": os.environ["PATH"],
               "AWS_CONFIG_FILE": str(tmp_path / "none"), "HOME": str(tmp_path)}
        result = subprocess.run([sys.executable, "-I", "-S", "-c", DRIVER, str(lambda_root), str(runtime_packages),
                                 str(events)], env=env, cwd=lambda_root, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return [json.loads(line) for line in result.stdout.splitlines()]

    health_v2, health_v1, submitted, reconciled, ignored = invoke(
        http_v2("GET", "/healthz"), http_v1("GET", "/healthz"),
        http_v2("POST", "/jobs", {"task": "copy_rename", "inputs": ["s3://poky-in/a.txt"]}),
        scheduled(), {"some": "event"})
    assert health_v2["statusCode"] == 200 and json.loads(health_v2["body"]) == {"status": "ok"}
    assert health_v1["statusCode"] == 200
    assert submitted["statusCode"] == 202, submitted
    job = json.loads(submitted["body"])
    assert reconciled == {"reconciled": True} and ignored == {"ignored": True}

    [task_arn] = clients.ecs.list_tasks(cluster=settings["POKY_CLUSTER"], startedBy=job["id"])["taskArns"]
    handled, fetched = invoke(task_stopped(job["id"], task_arn), http_v2("GET", f"/jobs/{job['id']}"))
    assert "stopped" in handled["handled"]
    assert json.loads(fetched["body"])["status"] == "succeeded"
