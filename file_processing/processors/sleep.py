"""Sleep for ``seconds``, reporting progress each second: the demo of a slow job and of cancel."""

from __future__ import annotations

import math
import time

from file_processing.context import JobContext


def run(ctx: JobContext) -> list[str]:
    seconds = float(ctx.params.get("seconds", 10))
    total = math.ceil(seconds)
    deadline = time.monotonic() + seconds
    for elapsed in range(total):
        ctx.progress(elapsed, total, f"slept {elapsed}s of {seconds:g}s", force=True)
        # Wakes at once on SIGTERM: the stop event is set by the runner's signal handler.
        if ctx.stop_event.wait(max(0.0, min(1.0, deadline - time.monotonic()))):
            ctx.check_stop()
    ctx.progress(total, total, f"slept {seconds:g}s", force=True)
    return []
