"""End to end on the AWS backend, with a moto server on loopback standing in for AWS.

`poky bootstrap` creates the resources, `poky serve` runs with POKY_BACKEND=aws, jobs go in through
the CLI. The test plays Fargate: it reads each task's overrides from DescribeTasks, runs
`python -m file_processing.runner` with exactly that environment against the moto server, ships
its output to CloudWatch as the awslogs driver would, and ends the task with the exit code.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import requests
from dotenv import dotenv_values

from poky_app.settings import PROJECT_ROOT
from test.aws_fixtures import REGION, end_task, frozen_ecs_tasks
from test.conftest import wait_for_job, wait_until
from test.test_e2e_local import free_port


@pytest.fixture
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port())
    server.start()
    host, port = server.get_host_and_port()
    with frozen_ecs_tasks():
        yield f"http://{host}:{port}"
        requests.post(f"http://{host}:{port}/moto-api/reset", timeout=10)  # its state lives in this process
    server.stop()


class AwsDeployment:
    """A working directory with the .env bootstrap wrote, and a `poky serve` using it."""

    def __init__(self, workdir: Path, endpoint: str) -> None:
        self.workdir = workdir
        self.endpoint = endpoint
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {"PATH": os.environ["PATH"], "HOME": str(workdir), "PYTHONPATH": str(PROJECT_ROOT),
                    "AWS_ENDPOINT_URL": endpoint, "AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": "testing",
                    "AWS_SECRET_ACCESS_KEY": "testing", "AWS_CONFIG_FILE": str(workdir / "no-aws-config"),
                    "AWS_SHARED_CREDENTIALS_FILE": str(workdir / "no-aws-credentials"),
                    "POKY_URL": self.url, "POKY_AUTH": "off", "POKY_MONITOR_INTERVAL_SECONDS": "0.2",
                    "POKY_HOME": str(workdir / ".poky")}
        self.server: subprocess.Popen[bytes] | None = None

    def poky(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([sys.executable, "-m", "poky_app", *args], env=self.env, cwd=self.workdir,
                                capture_output=True, text=True, timeout=120)
        if check:
            assert result.returncode == 0, result.stdout + result.stderr
        return result

    def serve(self) -> None:
        self.log = (self.workdir / "serve.log").open("wb")
        self.server = subprocess.Popen([sys.executable, "-m", "poky_app", "serve", "--port", str(self.port)],
                                       env=self.env, cwd=self.workdir, stdout=self.log, stderr=subprocess.STDOUT)

        def healthy() -> bool:
            assert self.server and self.server.poll() is None, (self.workdir / "serve.log").read_text()
            try:
                return requests.get(self.url + "/healthz", timeout=1).ok
            except requests.ConnectionError:
                return False

        wait_until(healthy, timeout=30, interval=0.1)

    def stop(self) -> None:
        if self.server and self.server.poll() is None:
            self.server.send_signal(signal.SIGTERM)
            self.server.wait(timeout=10)

    def client(self, service: str):  # type: ignore[no-untyped-def]
        return boto3.client(service, region_name=REGION, endpoint_url=self.endpoint,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def job(self, job_id: str) -> dict:
        return requests.get(f"{self.url}/jobs/{job_id}", timeout=10).json()

    def task_of(self, job_id: str) -> dict:
        """The ECS task the control plane started for the job (as Fargate would see it)."""
        settings = dotenv_values(self.workdir / ".env")
        ecs = self.client("ecs")
        arns = wait_until(lambda: ecs.list_tasks(cluster=settings["POKY_CLUSTER"], startedBy=job_id)["taskArns"])
        [task] = ecs.describe_tasks(cluster=settings["POKY_CLUSTER"], tasks=arns)["tasks"]
        return task

    def run_container(self, task: dict) -> subprocess.CompletedProcess[str]:
        """Play Fargate: run the runner with exactly the task's overrides, ship its output to its log stream."""
        settings = dotenv_values(self.workdir / ".env")
        [override] = task["overrides"]["containerOverrides"]
        container_env = {v["name"]: v["value"] for v in override["environment"]}
        # What Fargate adds: credentials of the task role, and (here) the endpoint of our stand-in AWS.
        platform = {k: self.env[k] for k in ("PATH", "PYTHONPATH", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID",
                                             "AWS_SECRET_ACCESS_KEY", "AWS_CONFIG_FILE")}
        command = [sys.executable if override["command"][0] == "python" else override["command"][0],
                   *override["command"][1:]]
        result = subprocess.run(command, env={**platform, **container_env}, capture_output=True, text=True,
                                timeout=120)
        logs = self.client("logs")
        stream = "/".join((settings["POKY_LOG_STREAM_PREFIX"], settings["POKY_CONTAINER_NAME"],
                           task["taskArn"].split("/")[-1]))
        logs.create_log_stream(logGroupName=settings["POKY_LOG_GROUP"], logStreamName=stream)
        now = int(time.time() * 1000)
        lines = (result.stdout + result.stderr).splitlines()
        if lines:
            logs.put_log_events(logGroupName=settings["POKY_LOG_GROUP"], logStreamName=stream,
                                logEvents=[{"timestamp": now + i, "message": line} for i, line in enumerate(lines)])
        return result


@pytest.fixture
def deployment(tmp_path: Path, moto_endpoint: str) -> Iterator[AwsDeployment]:
    deployed = AwsDeployment(tmp_path, moto_endpoint)
    yield deployed
    deployed.stop()


def test_bootstrap_serve_and_run_jobs_on_aws(deployment: AwsDeployment, tmp_path: Path) -> None:
    boot = deployment.poky("bootstrap", "--image", "123456789012.dkr.ecr.us-east-1.amazonaws.com/poky:1")
    assert "change(s) made" in boot.stdout
    settings = dotenv_values(tmp_path / ".env")
    input_bucket, output_bucket = settings["POKY_INPUT_BUCKET"], settings["POKY_OUTPUT_BUCKET"]
    deployment.serve()

    source = tmp_path / "readings.csv"
    source.write_bytes(b"sensor,value\n" + b"".join(b"s%d,%d\n" % (i % 7, i) for i in range(20_000)))
    deployment.poky("upload", str(source), f"s3://{input_bucket}/in/readings.csv")  # a presigned S3 PUT

    # Job 1: copy_rename, run by "Fargate", succeeds with the right object in the output bucket.
    job = json.loads(deployment.poky("submit", "copy_rename", "--input", f"s3://{input_bucket}/in/readings.csv",
                                     "--json").stdout)
    task = deployment.task_of(job["id"])
    assert task["startedBy"] == job["id"]
    ran = deployment.run_container(task)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert deployment.job(job["id"])["status"] == "running"  # the runner reported, the task still runs
    end_task(task["taskArn"], 0)
    done = wait_for_job(lambda: deployment.job(job["id"]), timeout=30)
    assert done["status"] == "succeeded", done
    [output] = done["result"]["outputs"]
    assert output.startswith(f"s3://{output_bucket}/{job['id']}/readings_") and output.endswith(".csv")
    copy = tmp_path / "copy.csv"
    deployment.poky("download", output, str(copy))  # a presigned S3 GET
    assert copy.read_bytes() == source.read_bytes()
    assert done["attempts"][-1]["task_arn"] == task["taskArn"]
    assert "succeeded with 1 output(s)" in deployment.poky("logs", job["id"]).stdout  # from CloudWatch

    # Job 2: its container is killed for memory (exit 137): failed, with the reason and a hint.
    job = json.loads(deployment.poky("submit", "compress", "--input", f"s3://{input_bucket}/in/readings.csv",
                                     "--json").stdout)
    task = deployment.task_of(job["id"])
    end_task(task["taskArn"], 137, "OutOfMemoryError: Container killed due to memory usage")
    done = wait_for_job(lambda: deployment.job(job["id"]), timeout=30)
    assert done["status"] == "failed"
    assert done["error"]["reason"] == "OutOfMemory" and "memory" in done["error"]["hint"]
    status = deployment.poky("status", job["id"]).stdout
    assert "OutOfMemory" in status and "hint:" in status

    # Listing reads the DynamoDB indexes, newest first.
    listed = json.loads(deployment.poky("list", "--json").stdout)["jobs"]
    assert [j["status"] for j in listed] == ["failed", "succeeded"]


def test_run_fargate_task_starts_a_recorded_job(deployment: AwsDeployment, tmp_path: Path) -> None:
    deployment.poky("bootstrap", "--image", "poky:1")
    started = subprocess.run([sys.executable, "-m", "file_processing.run_fargate_task", "sleep",
                              "--param", "seconds=1"], env=deployment.env, cwd=tmp_path,
                             capture_output=True, text=True, timeout=60)
    assert started.returncode == 0, started.stderr
    job = json.loads(started.stdout[started.stdout.index("{"):])
    assert job["status"] == "starting" and job["params"] == {"seconds": 1}
    assert deployment.task_of(job["id"])["startedBy"] == job["id"]  # the same launcher, the same contract
    refused = subprocess.run([sys.executable, "-m", "file_processing.run_fargate_task", "sleep",
                              "--param", "seconds=-5"], env=deployment.env, cwd=tmp_path,
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "/params/seconds" in refused.stderr
