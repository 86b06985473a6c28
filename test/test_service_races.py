"""The reconciler against a launch in flight: never a second container for the same attempt."""

from __future__ import annotations

import threading
import time

from poky_app.jobs import Job
from poky_app.service import JobService
from test.conftest import wait_for_job


class GatedLauncher:
    """The real process launcher, held inside launch() until the test opens the gate."""

    def __init__(self, real) -> None:  # type: ignore[no-untyped-def]
        self.real = real
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.launches: list[tuple[str, int]] = []

    def launch(self, job: Job, task, env):  # type: ignore[no-untyped-def]
        self.launches.append((job.id, job.attempt))
        self.entered.set()
        self.gate.wait(10)
        return self.real.launch(job, task, env)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.real, name)


def gated_service(service: JobService) -> tuple[JobService, GatedLauncher]:
    gated = GatedLauncher(service.launcher)
    rebuilt = JobService(service.settings, service.catalog, service.store, service.storage, gated,
                         container_env_extra=service._env_extra)
    return rebuilt, gated


def submit_until_gated(service: JobService, launcher: GatedLauncher) -> tuple[threading.Thread, list[Job]]:
    """Submit a no-op job from another thread and return once it is held inside launch()."""
    submitted: list[Job] = []
    body = {"task": "sleep", "params": {"seconds": 0}}
    thread = threading.Thread(target=lambda: submitted.append(service.submit(body)[0]))
    thread.start()
    assert launcher.entered.wait(10)
    return thread, submitted


def test_reconcile_during_a_launch_does_not_launch_again(service: JobService) -> None:
    service, launcher = gated_service(service)
    thread, submitted = submit_until_gated(service, launcher)
    for _ in range(3):  # the attempt is recorded (starting, no container yet): not an orphan
        service.reconcile()
    launcher.gate.set()
    thread.join(10)
    done = wait_for_job(lambda: service.get(submitted[0].id).to_public())
    assert done["status"] == "succeeded"
    assert launcher.launches == [(submitted[0].id, 1)]


def test_a_stale_record_does_not_relaunch_a_finished_job(service: JobService) -> None:
    service, launcher = gated_service(service)
    thread, _ = submit_until_gated(service, launcher)
    [stale] = [j for j in service.store.active() if j.status.value == "starting"]  # read mid-launch
    launcher.gate.set()
    thread.join(10)
    wait_for_job(lambda: service.get(stale.id).to_public())
    time.sleep(0.1)
    service._recover_unrecorded_launch(stale)  # what a reconcile pass holding that old read does
    assert launcher.launches == [(stale.id, 1)]
    assert service.get(stale.id).status.value == "succeeded"


def test_duplicate_exit_reports_notify_once(service: JobService, callback_server) -> None:  # type: ignore[no-untyped-def]
    from poky_app.jobs import ContainerExit
    from test.conftest import wait_until

    url, received = callback_server
    job, _ = service.submit({"task": "sleep", "params": {"seconds": 30}, "callback_url": url})
    try:
        wait_for_job(lambda: service.get(job.id).to_public(), {"running"})
        barrier = threading.Barrier(4)

        def report() -> None:  # the waiter thread and reconcile passes may all see the same exit
            barrier.wait()
            service.handle_exit(job.id, 1, ContainerExit(0))

        threads = [threading.Thread(target=report) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert service.get(job.id).status.value == "succeeded"
        wait_until(lambda: received)
        time.sleep(0.5)
        assert len(received) == 1
    finally:
        current = service.get(job.id)
        if current.launch:
            service.launcher.stop(current.launch, force=True)
