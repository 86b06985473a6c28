"""A background thread that runs the service's reconcile pass every few hundred milliseconds.

Exits are recorded the moment they happen by the launcher's waiter threads; this loop is the
safety net (missed exits, crash recovery, timeouts, stop escalation, queued jobs).
"""

from __future__ import annotations

import logging
import threading

from poky_app.service import JobService

log = logging.getLogger(__name__)


class Monitor:
    def __init__(self, service: JobService, interval_seconds: float) -> None:
        self._service = service
        self._interval = interval_seconds
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="poky-monitor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._service.reconcile()
            except Exception:  # keep watching: one bad pass must not stop all future ones
                log.exception("reconcile pass failed")
            self._stopping.wait(self._interval)
