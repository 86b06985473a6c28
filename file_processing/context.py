"""What a processor is handed: its inputs, output prefix, params, storage and a way to report.

Processors call ``ctx.progress(...)`` as they go and ``ctx.check_stop()`` between units of work,
so a SIGTERM (cancel, timeout, Fargate stopping the task) ends them cleanly within a second.
"""

from __future__ import annotations

import threading
import time

from poky_app.uris import ObjectUri, parse_uri

TYPE_CHECKING = False  # typing.TYPE_CHECKING would import typing at every container start
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from poky_app.ports import Storage

    ProgressSink = Callable[[dict[str, Any]], None]
_REPORT_EVERY_SECONDS = 0.5


class Stopped(Exception):
    """The container was asked to stop (SIGTERM)."""


class ProcessorError(Exception):
    """A failure the processor can explain: it becomes the job's {reason, message, hint}."""

    def __init__(self, reason: str, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.reason, self.message, self.hint = reason, message, hint


class JobContext:
    def __init__(self, spec: dict[str, Any], storage: Storage, report: ProgressSink,
                 stop_event: threading.Event | None = None) -> None:
        self.spec = spec
        self.storage = storage
        self.report = report
        self.stop_event = stop_event or threading.Event()
        self._last_report = 0.0

    @property
    def inputs(self) -> list[ObjectUri]:
        return [parse_uri(uri) for uri in self.spec["inputs"]]

    @property
    def output(self) -> ObjectUri:
        return parse_uri(self.spec["output"], allow_prefix=True)

    @property
    def params(self) -> dict[str, Any]:
        return self.spec["params"]

    def progress(self, done: float, total: float | None, message: str = "", *, force: bool = False) -> None:
        """Report progress; throttled so a tight loop does not flood the job store."""
        now = time.monotonic()
        if force or now - self._last_report >= _REPORT_EVERY_SECONDS:
            self._last_report = now
            self.report({"done": done, "total": total, "message": message})

    def check_stop(self) -> None:
        if self.stop_event.is_set():
            raise Stopped()
