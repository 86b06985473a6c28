"""The local launcher with real subprocesses: exits, stops, re-adoption, log paging."""

from __future__ import annotations

import os
import queue
import signal
import sys
import time
from pathlib import Path

import pytest

from poky_app import jobs as machine
from poky_app.catalog import TaskType
from poky_app.errors import LaunchError
from poky_app.jobs import ContainerExit, Job
from poky_app.local.process_launcher import ProcessLauncher
from test.conftest import wait_until


@pytest.fixture
def launcher(tmp_path: Path) -> ProcessLauncher:
    return ProcessLauncher(tmp_path / "logs", workdir=tmp_path)


@pytest.fixture
def exits(launcher: ProcessLauncher) -> queue.Queue:
    seen: queue.Queue = queue.Queue()
    launcher.on_exit(lambda job_id, attempt, exit: seen.put((job_id, attempt, exit)))
    return seen


def job(attempt: int = 1) -> Job:
    return Job(id=machine.new_job_id(), task="t", inputs=(), output="s3://b/x/", params={},
               created_at=time.time(), attempt=attempt)


def python(code: str) -> TaskType:
    """A task type whose container runs ``code``."""
    return TaskType(name="t", description="", params_schema={}, min_inputs=0, max_inputs=0, input_buckets=(),
                    output_bucket="b", timeout_seconds=60, cpu=256, memory=512, command=("python", "-c", code))


def test_exit_code_is_reported_at_once_and_by_describe(launcher, exits) -> None:  # type: ignore[no-untyped-def]
    the_job = job()
    handle = launcher.launch(the_job, python("import sys; print('hi'); sys.exit(3)"), {"POKY_JOB_ID": the_job.id})
    assert exits.get(timeout=10) == (the_job.id, 1, ContainerExit(3))
    assert launcher.describe_one(handle) == ContainerExit(3)
    lines, _ = launcher.read_logs(the_job, None, 100, final=True)
    assert lines == ["hi"]


def test_environment_is_the_contract_not_the_servers(launcher, exits, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("POKY_SECRET_KEY", "must-not-leak")
    the_job = job()
    code = "import os, sys; sys.exit(0 if 'POKY_SECRET_KEY' not in os.environ and os.environ['X'] == '1' else 9)"
    launcher.launch(the_job, python(code), {"X": "1"})
    assert exits.get(timeout=10)[2] == ContainerExit(0)


def test_stop_terminates_the_whole_process_group(launcher, exits, tmp_path) -> None:  # type: ignore[no-untyped-def]
    the_job = job()
    pid_file = tmp_path / "grandchild.pid"
    code = ("import subprocess, sys, time; "
            f"p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
            f"open({str(pid_file)!r}, 'w').write(str(p.pid)); time.sleep(60)")
    handle = launcher.launch(the_job, python(code), {})
    wait_until(lambda: pid_file.is_file() and pid_file.read_text())
    grandchild = int(pid_file.read_text())
    launcher.stop(handle, force=False)
    assert exits.get(timeout=10)[2] == ContainerExit(128 + signal.SIGTERM, "killed by SIGTERM")
    wait_until(lambda: not Path(f"/proc/{grandchild}").exists()
               or "Z" in Path(f"/proc/{grandchild}/stat").read_text().split(")")[-1][:3])


def test_force_stop_kills_a_process_that_ignores_sigterm(launcher, exits, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ready = tmp_path / "ready"
    code = ("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            f"open({str(ready)!r}, 'w').close(); time.sleep(60)")
    handle = launcher.launch(job(), python(code), {})
    wait_until(ready.exists)
    launcher.stop(handle, force=False)
    assert launcher.describe_one(handle) is None  # still alive: it ignored SIGTERM
    launcher.stop(handle, force=True)
    ended = exits.get(timeout=10)[2]
    assert ended.exit_code == 137 and ended.failure.reason == "Killed"


def test_a_new_launcher_re_adopts_a_running_attempt(launcher, tmp_path) -> None:  # type: ignore[no-untyped-def]
    the_job = job(attempt=2)
    handle = launcher.launch(the_job, python("import time; time.sleep(60)"),
                             {"POKY_JOB_ID": the_job.id, "POKY_ATTEMPT": "2"})
    restarted = ProcessLauncher(tmp_path / "logs", workdir=tmp_path)  # what a restarted server has
    assert restarted.find(the_job.id, 2) == handle
    assert restarted.find(the_job.id, 1) is None
    assert restarted.describe_one(handle) is None
    restarted.stop(handle, force=True)
    wait_until(lambda: restarted.describe_one(handle) is not None)
    assert restarted.describe_one(handle).exit_code is None  # not its child: nobody saw the code


def test_a_reused_pid_is_not_mistaken_for_ours(launcher) -> None:  # type: ignore[no-untyped-def]
    fake = {"kind": "process", "pid": os.getpid(), "start_ticks": 1}
    assert launcher.describe_one(fake).exit_code is None
    launcher.stop(fake, force=True)  # must not signal this test process


def test_unstartable_command_is_a_launch_error(launcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LaunchError) as caught:
        launcher.launch(job(), TaskType(**{**python("").__dict__, "command": ("/nonexistent/binary",)}), {})
    assert caught.value.reason == "CannotStartContainer" and not caught.value.retryable


def test_log_paging_holds_back_partial_lines_and_spans_attempts(launcher) -> None:  # type: ignore[no-untyped-def]
    the_job = job(attempt=2)
    first = launcher.log_path(the_job.id, 1)
    first.parent.mkdir(parents=True)
    first.write_text("one\ntwo\nthree\n")
    launcher.log_path(the_job.id, 2).write_text("four\nfive (no newline yet)")
    lines, cursor = launcher.read_logs(the_job, None, 2)
    assert lines == ["one", "two"]
    lines, cursor = launcher.read_logs(the_job, cursor, 100)
    assert lines == ["three", "four"]
    assert launcher.read_logs(the_job, cursor, 100)[0] == []
    assert launcher.read_logs(the_job, cursor, 100, final=True)[0] == ["five (no newline yet)"]


def test_python_is_this_interpreter(launcher, exits) -> None:  # type: ignore[no-untyped-def]
    code = f"import sys; sys.exit(0 if sys.executable == {sys.executable!r} else 5)"
    launcher.launch(job(), python(code), {})
    assert exits.get(timeout=10)[2] == ContainerExit(0)
