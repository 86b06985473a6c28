"""The container runner, run as `python -m file_processing.runner` exactly as a launcher runs it."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from poky_app import jobs as machine
from poky_app.contract import INLINE_SPEC_LIMIT, container_env, job_spec
from poky_app.jobs import Job
from poky_app.settings import PROJECT_ROOT, Settings
from test.conftest import object_path, wait_until


@pytest.fixture
def start_runner(settings: Settings, service):  # type: ignore[no-untyped-def]
    """Record a job at attempt 1 and start the runner for it; returns (job id, process)."""

    def start(task: str, inputs: list[str], params: dict, output: str | None = None,
              spec_override: dict | None = None) -> tuple[str, subprocess.Popen]:
        job = Job(id=machine.new_job_id(), task=task, inputs=tuple(inputs),
                  output=output or "s3://poky-output/out/", params=params, created_at=time.time())
        service.store.create(job)
        job = service.store.save(job, machine.begin_attempt(job, time.time()))
        spec = job_spec(job.id, 1, task, inputs, job.output, params) | (spec_override or {})
        env = {**container_env(spec, store_spec=_store_spec(service, job.id)),
               "POKY_BACKEND": "local", "POKY_HOME": str(settings.home), "PYTHONPATH": str(PROJECT_ROOT),
               "PATH": os.environ["PATH"]}
        process = subprocess.Popen([sys.executable, "-m", "file_processing.runner"], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return job.id, process

    return start


def _store_spec(service, job_id: str):  # type: ignore[no-untyped-def]
    def store(data: bytes) -> str:
        from poky_app.uris import ObjectUri

        uri = ObjectUri("poky-output", f"_poky/specs/{job_id}.json")
        with service.storage.open_write(uri) as sink:
            sink.write(data)
        return str(uri)

    return store


def test_copy_rename_copies_and_reports(start_runner, put_input, settings, service) -> None:  # type: ignore[no-untyped-def]
    data = os.urandom(300_000)
    job_id, process = start_runner("copy_rename", [put_input("dir/report.csv", data)], {})
    assert process.wait(timeout=30) == 0, process.stdout.read()
    job = service.store.get(job_id)
    assert job.status.value == "running"  # the runner reports; the control plane decides the end
    [output] = job.result["outputs"]
    assert output.startswith("s3://poky-output/out/report_") and output.endswith(".csv")
    assert object_path(settings, output).read_bytes() == data
    assert job.progress == {"done": 300_000, "total": 300_000, "message": "copied 1 object(s)"}


def test_compress_output_gunzips_to_the_input(start_runner, put_input, settings, service) -> None:  # type: ignore[no-untyped-def]
    data = b"poky " * 500_000
    job_id, process = start_runner("compress", [put_input("big.txt", data)], {"level": 1})
    assert process.wait(timeout=30) == 0
    [output] = service.store.get(job_id).result["outputs"]
    assert output == "s3://poky-output/out/big.txt.gz"
    assert gzip.decompress(object_path(settings, output).read_bytes()) == data


def test_sigterm_stops_cleanly_with_143(start_runner, service) -> None:  # type: ignore[no-untyped-def]
    job_id, process = start_runner("sleep", [], {"seconds": 60})
    wait_until(lambda: (service.store.get(job_id).progress or {}).get("total") == 60)
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 143
    assert time.monotonic() - started < 2
    assert "stopped on request" in process.stdout.read()


def test_missing_input_fails_with_a_reason(start_runner, service) -> None:  # type: ignore[no-untyped-def]
    job_id, process = start_runner("copy_rename", ["s3://poky-input/gone.txt"], {})
    assert process.wait(timeout=30) == 1
    assert service.store.get(job_id).error["reason"] == "InputMissing"


def test_unknown_task_fails_with_a_reason(start_runner, service) -> None:  # type: ignore[no-untyped-def]
    job_id, process = start_runner("transcode", [], {})
    assert process.wait(timeout=30) == 1
    assert service.store.get(job_id).error["reason"] == "UnknownTask"


def test_large_spec_travels_as_an_object(start_runner, service) -> None:  # type: ignore[no-untyped-def]
    long_suffix = {"note": "n" * (INLINE_SPEC_LIMIT + 10)}
    job_id, process = start_runner("sleep", [], {"seconds": 0}, spec_override={"extra": long_suffix})
    assert process.wait(timeout=30) == 0, process.stdout.read()
    assert service.store.get(job_id).result == {"outputs": []}


def test_started_without_a_spec_exits_2(settings: Settings, service) -> None:  # type: ignore[no-untyped-def]
    env = {"POKY_BACKEND": "local", "POKY_HOME": str(settings.home), "PYTHONPATH": str(PROJECT_ROOT)}
    result = subprocess.run([sys.executable, "-m", "file_processing.runner"], env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "POKY_SPEC" in result.stderr


def test_spec_that_disagrees_with_the_environment_exits_2(settings: Settings, service) -> None:  # type: ignore[no-untyped-def]
    spec = job_spec("A", 1, "sleep", [], "s3://poky-output/x/", {})
    env = {"POKY_BACKEND": "local", "POKY_HOME": str(settings.home), "PYTHONPATH": str(PROJECT_ROOT),
           "POKY_SPEC": json.dumps(spec), "POKY_JOB_ID": "B"}
    result = subprocess.run([sys.executable, "-m", "file_processing.runner"], env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "disagrees" in result.stderr
