"""How the CLI shows jobs, tasks and errors to a person (rich), and follows a job to its end."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from poky_app.cli.client import ApiError

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

TERMINAL = {"succeeded", "failed", "cancelled", "timed_out"}
_STATUS_STYLE = {"succeeded": "green", "failed": "red", "cancelled": "yellow", "timed_out": "red",
                 "running": "cyan", "starting": "cyan", "queued": "dim"}


def show_error(error: ApiError) -> None:
    err_console.print(f"[red]error:[/red] {error}")
    for item in error.errors:
        err_console.print(f"  {item.get('location', '')}: {item.get('message', '')}")


def show_json(data: Any) -> None:
    console.print_json(json.dumps(data))


def status_text(status: str) -> str:
    return f"[{_STATUS_STYLE.get(status, 'white')}]{status}[/]"


def _duration(job: dict[str, Any]) -> str:
    start, end = job.get("started_at") or job.get("created_at"), job.get("finished_at")
    if not (start and end):
        return ""
    seconds = (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    return f" in {seconds:.1f}s"


def show_job(job: dict[str, Any]) -> None:
    console.print(f"job [bold]{job['id']}[/] ({job['task']}): {status_text(job['status'])}{_duration(job)}")
    progress = job.get("progress")
    if progress and job["status"] not in TERMINAL:
        total = progress.get("total")
        console.print(f"  progress: {progress.get('done')}/{total if total is not None else '?'} "
                      f"{progress.get('message', '')}")
    if job.get("inputs"):
        console.print("  inputs:  " + "\n           ".join(job["inputs"]))
    for uri in (job.get("result") or {}).get("outputs", []):
        console.print(f"  output:  {uri}")
    if job["status"] != "succeeded" and job.get("error"):
        error = job["error"]
        console.print(f"  [red]{error['reason']}[/]: {error['message']}")
        if error.get("hint"):
            console.print(f"  hint: {error['hint']}")


def show_rows(header: list[str], rows: list[list[str]]) -> None:
    """A table on a terminal; tab-separated lines when piped, so scripts can cut and awk them."""
    if not console.is_terminal:
        for row in [header, *rows]:
            console.out("\t".join(row), highlight=False)
        return
    table = Table(box=None)
    for name in header:
        table.add_column(name, no_wrap=name in ("id", "task", "status", "created"))
    for row in rows:
        table.add_row(*row)
    console.print(table)


def _percent(progress: dict[str, Any] | None) -> str:
    if not progress or not progress.get("total"):
        return ""
    return f"{progress['done'] / progress['total']:.0%}"


def show_tasks(tasks: list[dict[str, Any]]) -> None:
    show_rows(["task", "params", "description"],
              [[t["name"], ", ".join(t["params_schema"].get("properties", {})) or "-", t["description"]]
               for t in tasks])


def show_jobs(jobs: list[dict[str, Any]], next_cursor: str | None) -> None:
    show_rows(["id", "task", "status", "created", "progress"],
              [[j["id"], j["task"], status_text(j["status"]) if console.is_terminal else j["status"],
                j["created_at"].replace("T", " ")[:19], _percent(j.get("progress"))] for j in jobs])
    if next_cursor:
        err_console.print(f"more: poky list --cursor {next_cursor}")


def follow_job(watch: Callable[[str | None], tuple[dict[str, Any], str]]) -> dict[str, Any]:
    """Follow a job to its end with long-polls (``watch(etag)`` answers when the job changes):
    a live bar on a terminal, one line per change elsewhere."""
    job, etag = watch(None)
    if console.is_terminal:
        columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                   TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
                   TextColumn("[dim]{task.fields[message]}"))
        with Progress(*columns, console=console, transient=True) as bar:
            row = bar.add_task(job["status"], total=None, message="")
            while job["status"] not in TERMINAL:
                progress = job.get("progress") or {}
                bar.update(row, description=status_text(job["status"]), completed=progress.get("done", 0),
                           total=progress.get("total"), message=progress.get("message", ""))
                job, etag = watch(etag)
        return job
    last = None
    while True:
        progress = job.get("progress") or {}
        line = " ".join(filter(None, (job["status"], _percent(progress), progress.get("message", ""))))
        if line != last:
            console.print(f"  {line}")
            last = line
        if job["status"] in TERMINAL:
            return job
        job, etag = watch(etag)


@contextmanager
def byte_progress(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A transfer bar on a terminal; yields the function to call with each chunk's size."""
    if not console.is_terminal:
        yield lambda n: None
        return
    with Progress("{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  console=console, transient=True) as progress:
        row = progress.add_task(label, total=total)
        yield lambda n: progress.advance(row, n)
