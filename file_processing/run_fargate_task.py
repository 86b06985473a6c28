"""Start one job on Fargate straight from the command line: the original Poky tool, now going
through the same service and ECS launcher as the API, so the job is recorded and visible there.

    python -m file_processing.run_fargate_task copy_rename --input s3://<input bucket>/report.csv --wait

Settings come from the environment and .env, as written by `poky bootstrap`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from poky_app.backends import build_service
from poky_app.cli import parse_param
from poky_app.errors import PokyError
from poky_app.settings import load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("task")
    parser.add_argument("--input", dest="inputs", action="append", default=[], metavar="URI")
    parser.add_argument("--output", metavar="URI")
    parser.add_argument("--param", dest="params", action="append", default=[], type=parse_param, metavar="K=V")
    parser.add_argument("--wait", action="store_true", help="poll ECS until the task ends")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        if settings.aws is None:
            print("run_fargate_task needs POKY_BACKEND=aws (run `poky bootstrap` first)", file=sys.stderr)
            return 2
        service = build_service(settings)
        body = {"task": args.task, "inputs": args.inputs, "params": dict(args.params)}
        if args.output:
            body["output"] = args.output
        job, _ = service.submit(body)
        print(f"started job {job.id}: {(job.launch or {}).get('task_arn', job.status.value)}", flush=True)
        while args.wait and not job.status.terminal:
            time.sleep(5)
            job = service.refresh(service.get(job.id))
        print(json.dumps(job.to_public(), indent=2))
    except PokyError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        for error in getattr(exc, "errors", []):
            print(f"  {error.location}: {error.message}", file=sys.stderr)
        return 1
    return 0 if job.status.value in ("succeeded", "starting", "running") else 1


if __name__ == "__main__":
    sys.exit(main())
