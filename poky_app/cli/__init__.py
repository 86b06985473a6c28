"""The `poky` command. Everything but `serve` is an HTTP client of the API (POKY_URL), so the same
commands work against a deployed stage."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from poky_app.cli.client import ApiError, PokyClient
from poky_app.cli.render import (
    TERMINAL,
    byte_progress,
    console,
    err_console,
    follow_job,
    show_error,
    show_job,
    show_jobs,
    show_json,
    show_tasks,
)
from poky_app.errors import ConfigError

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def parse_param(text: str) -> tuple[str, Any]:
    """k=v; v is read as JSON when it parses (5, true, [1,2]), else taken as a string."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="poky", description="Run slow data jobs on demand.")
    parser.add_argument("--url", help="the Poky API (default: $POKY_URL or http://127.0.0.1:8000)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the control plane on this machine")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)

    commands.add_parser("tasks", help="list the task types")

    upload = commands.add_parser("upload", help="upload a file as an input object")
    upload.add_argument("file", type=Path)
    upload.add_argument("uri", help="s3://<input bucket>/<key>")

    download = commands.add_parser("download", help="download an object to a file")
    download.add_argument("uri")
    download.add_argument("file", type=Path)

    submit = commands.add_parser("submit", help="start a job")
    submit.add_argument("task")
    submit.add_argument("--input", dest="inputs", action="append", default=[], metavar="URI")
    submit.add_argument("--output", metavar="URI", help="output prefix (default s3://<output bucket>/<job id>/)")
    submit.add_argument("--param", dest="params", action="append", default=[], type=parse_param, metavar="K=V")
    submit.add_argument("--priority", type=int)
    submit.add_argument("--callback-url")
    submit.add_argument("--wait", action="store_true", help="follow the job to its end, showing progress")
    submit.add_argument("--json", action="store_true", help="print the job as JSON")

    for name, text in (("status", "show a job"), ("cancel", "cancel a job")):
        command = commands.add_parser(name, help=text)
        command.add_argument("job_id")
        command.add_argument("--json", action="store_true")

    listing = commands.add_parser("list", help="list jobs, newest first")
    listing.add_argument("--status")
    listing.add_argument("--task")
    listing.add_argument("--limit", type=int)
    listing.add_argument("--cursor")
    listing.add_argument("--json", action="store_true")

    boot = commands.add_parser("bootstrap", help="create the AWS resources (operator; idempotent)")
    boot.add_argument("--image", required=True, help="the runner image URI (file_processing/Dockerfile)")
    boot.add_argument("--env-file", type=Path, default=Path(".env"), help="where to write the settings")
    boot.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")
    boot.add_argument("--lambda", dest="lambda_function", metavar="FUNCTION",
                      help="after `zappa deploy`: send ECS task state changes to this function (e.g. poky-dev)")

    policy = commands.add_parser("iam-policy", help="print the control plane role's least-privilege policy")
    policy.add_argument("--env-file", type=Path, default=Path(".env"))

    down = commands.add_parser("teardown", help="remove what bootstrap created (operator)")
    down.add_argument("--env-file", type=Path, default=Path(".env"))
    down.add_argument("--force", action="store_true", help="also delete the objects in the buckets")

    postman = commands.add_parser("postman", help="write a Postman collection of the server's API")
    postman.add_argument("--output", type=Path, default=Path("poky.postman_collection.json"))

    logs = commands.add_parser("logs", help="print a job's log")
    logs.add_argument("job_id")
    logs.add_argument("--follow", "-f", action="store_true", help="keep printing until the job ends")
    return parser


def _submit(client: PokyClient, args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"task": args.task, "inputs": args.inputs, "params": dict(args.params)}
    for field, value in (("output", args.output), ("priority", args.priority),
                         ("callback_url", args.callback_url)):
        if value is not None:
            body[field] = value
    job = client.submit(body)
    if not args.wait:
        show_json(job) if args.json else console.print(f"submitted {job['id']} ({job['status']})")
        return EXIT_OK
    if not args.json:
        console.print(f"submitted {job['id']}; waiting (Ctrl-C stops waiting, not the job)")
    try:
        job = follow_job(lambda etag: client.watch(job["id"], etag))
    except KeyboardInterrupt:
        err_console.print(f"stopped waiting; the job goes on: poky status {job['id']}")
        return EXIT_INTERRUPTED
    show_json(job) if args.json else show_job(job)
    return EXIT_OK if job["status"] == "succeeded" else EXIT_ERROR


def _logs(client: PokyClient, args: argparse.Namespace) -> int:
    cursor: str | None = None
    interval = 0.2
    while True:
        page = client.logs(args.job_id, cursor)
        for line in page["lines"]:
            console.out(line, highlight=False)
        if page["next_cursor"] is None:
            return EXIT_OK
        if not args.follow and not page["lines"]:
            return EXIT_OK
        cursor = page["next_cursor"]
        if not page["lines"]:
            time.sleep(interval)


def _upload(client: PokyClient, args: argparse.Namespace) -> int:
    if not args.file.is_file():
        err_console.print(f"[red]error:[/red] no such file: {args.file}")
        return EXIT_ERROR
    with byte_progress(f"uploading {args.file.name}", args.file.stat().st_size) as advance:
        result = client.upload(args.file, args.uri, advance)
    console.print(f"uploaded {args.file} -> {result.get('uri', args.uri)}")
    return EXIT_OK


def _download(client: PokyClient, args: argparse.Namespace) -> int:
    size, chunks = client.download(args.uri)
    partial = args.file.with_name(args.file.name + ".part")
    with byte_progress(f"downloading {args.uri}", size) as advance, partial.open("wb") as sink:
        for chunk in chunks:
            sink.write(chunk)
            advance(len(chunk))
    partial.replace(args.file)  # never leave a half-written file under the real name
    console.print(f"downloaded {args.uri} -> {args.file}")
    return EXIT_OK


def run(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        from poky_app.cli.serve import serve
        from poky_app.settings import load_settings

        try:
            serve(load_settings(), args.host, args.port)
        except ConfigError as exc:
            err_console.print(f"[red]configuration error:[/red] {exc}")
            return EXIT_USAGE
        except OSError as exc:
            err_console.print(f"[red]cannot serve on {args.host}:{args.port}:[/red] {exc.strerror or exc}")
            return EXIT_ERROR
        return EXIT_OK
    if args.command in ("bootstrap", "teardown", "iam-policy"):
        from poky_app.cli import operator

        try:
            if args.command == "bootstrap":
                return operator.bootstrap(args.image, args.env_file, args.dry_run, args.lambda_function)
            if args.command == "iam-policy":
                return operator.iam_policy(args.env_file)
            return operator.teardown(args.env_file, args.force)
        except Exception as exc:  # credentials, permissions, network: say it in one line
            err_console.print(f"[red]error:[/red] {type(exc).__name__}: {exc}")
            return EXIT_ERROR
    client = PokyClient(args.url)
    try:
        if args.command == "tasks":
            show_tasks(client.tasks())
        elif args.command == "upload":
            return _upload(client, args)
        elif args.command == "download":
            return _download(client, args)
        elif args.command == "submit":
            return _submit(client, args)
        elif args.command == "status":
            job = client.job(args.job_id)
            show_json(job) if args.json else show_job(job)
        elif args.command == "cancel":
            job = client.cancel(args.job_id)
            show_json(job) if args.json else console.print(
                f"cancelling {job['id']}" if job["status"] not in TERMINAL else f"{job['id']}: {job['status']}")
        elif args.command == "list":
            page = client.jobs(status=args.status, task=args.task, limit=args.limit, cursor=args.cursor)
            show_json(page) if args.json else show_jobs(page["jobs"], page["next_cursor"])
        elif args.command == "logs":
            return _logs(client, args)
        elif args.command == "postman":
            from poky_app.web.postman import collection_from_openapi

            collection = collection_from_openapi(client.openapi(), base_url=client.base_url)
            args.output.write_text(json.dumps(collection, indent=2) + "\n")
            console.print(f"wrote {args.output}: import it in Postman (File > Import)")
    except ApiError as exc:
        show_error(exc)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return EXIT_OK


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(run())
