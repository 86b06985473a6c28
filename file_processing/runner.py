"""The example container: ``python -m file_processing.runner``.

Reads the job spec (POKY_SPEC or POKY_SPEC_URI), reports running / progress / outcome, runs the
task's processor and exits 0 on success, 1 on failure, 2 when started without a usable spec,
143 when stopped by SIGTERM (as Fargate does on cancel or timeout).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Mapping

from file_processing.backend import connect
from file_processing.context import JobContext, ProcessorError, Stopped
from file_processing.processors import load_processor
from poky_app.contract import ContractError, read_spec
from poky_app.errors import NotFound, PokyError
from poky_app.uris import parse_uri

EXIT_OK, EXIT_FAILED, EXIT_BAD_START, EXIT_STOPPED = 0, 1, 2, 128 + signal.SIGTERM


def say(message: str) -> None:
    print(f"[poky runner] {message}", flush=True)


def main(environ: Mapping[str, str] = os.environ) -> int:
    try:
        storage, reporter = connect(environ)

        def fetch(uri: str) -> bytes:
            with storage.open_read(parse_uri(uri)) as handle:
                return handle.read()

        spec = read_spec(environ, fetch)
    except (ContractError, PokyError, ValueError) as exc:
        print(f"[poky runner] cannot start: {exc}", file=sys.stderr, flush=True)
        return EXIT_BAD_START

    job_id, attempt, task = spec["job_id"], int(spec["attempt"]), spec["task"]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())

    def report(progress: dict) -> None:
        reporter.set_progress(job_id, attempt, progress)

    def fail(reason: str, message: str, hint: str = "") -> int:
        say(f"failed: {reason}: {message}")
        reporter.set_outcome(job_id, attempt, result=None,
                             error={"reason": reason, "message": message, "hint": hint})
        return EXIT_FAILED

    reporter.mark_running(job_id, attempt, time.time())
    say(f"job {job_id} attempt {attempt}: {task} on {len(spec['inputs'])} input(s)")
    context = JobContext(spec, storage, report, stop)
    try:
        outputs = load_processor(task)(context)
    except Stopped:
        say("stopped on request (SIGTERM)")
        return EXIT_STOPPED
    except ProcessorError as exc:
        return fail(exc.reason, exc.message, exc.hint)
    except NotFound as exc:
        return fail("InputMissing", exc.message, "Upload the input again, then resubmit the job.")
    except Exception as exc:  # a processor bug: keep the traceback in the job's log
        import traceback

        traceback.print_exc()
        return fail("ProcessorCrashed", f"{type(exc).__name__}: {exc}", "See the job's logs.")
    reporter.set_outcome(job_id, attempt, result={"outputs": outputs}, error=None)
    say(f"succeeded with {len(outputs)} output(s)")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
