"""Validation of a job request (the body of POST /jobs). Pure: it reads no storage.

Every problem is collected with its location, so the caller fixes them all in one round trip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from poky_app.catalog import Catalog
from poky_app.errors import FieldError, NotFound, ValidationError
from poky_app.uris import ObjectUri, UriError, parse_uri

_FIELDS = {"task", "inputs", "output", "params", "callback_url", "priority"}
MAX_PRIORITY = 1000


@dataclass(frozen=True)
class JobRequest:
    task: str
    inputs: tuple[ObjectUri, ...]
    output: ObjectUri | None
    params: dict[str, Any]
    callback_url: str | None
    priority: int


def parse_job_request(body: Any, catalog: Catalog) -> JobRequest:
    if not isinstance(body, dict):
        raise ValidationError("the request body must be a JSON object", [FieldError("/", "expected an object")])
    errors = [FieldError(f"/{name}", "unknown field") for name in sorted(set(body) - _FIELDS)]

    task_name = body.get("task")
    if not isinstance(task_name, str) or not task_name:
        errors.append(FieldError("/task", "required: the name of a task (see GET /tasks)"))
        raise ValidationError("the job request is invalid", errors)
    task = catalog.get(task_name)
    if task is None:
        raise NotFound(f"unknown task {task_name!r}; known tasks: {', '.join(catalog.names)}")

    inputs: list[ObjectUri] = []
    raw_inputs = body.get("inputs", [])
    if not isinstance(raw_inputs, list):
        errors.append(FieldError("/inputs", "expected a list of s3://bucket/key addresses"))
        raw_inputs = []
    for index, raw in enumerate(raw_inputs):
        where = f"/inputs/{index}"
        try:
            uri = parse_uri(raw)
        except UriError as exc:
            errors.append(FieldError(where, str(exc)))
            continue
        if uri.bucket not in task.input_buckets:
            allowed = ", ".join(task.input_buckets) or "none"
            errors.append(FieldError(where, f"bucket {uri.bucket!r} is not an input bucket of "
                                            f"task {task.name!r} (allowed: {allowed})"))
            continue
        inputs.append(uri)
    if not task.min_inputs <= len(raw_inputs) <= task.max_inputs:
        errors.append(FieldError("/inputs", f"task {task.name!r} takes between {task.min_inputs} "
                                            f"and {task.max_inputs} inputs, not {len(raw_inputs)}"))

    output = None
    if body.get("output") is not None:
        raw = body["output"]
        try:
            if isinstance(raw, str) and not raw.endswith("/") and raw.count("/") > 2:
                raw += "/"  # "s3://b/results" means the prefix results/
            output = parse_uri(raw, allow_prefix=True)
            if output.bucket != task.output_bucket:
                errors.append(FieldError("/output", f"bucket {output.bucket!r} is not the output bucket "
                                                    f"of task {task.name!r} ({task.output_bucket})"))
        except UriError as exc:
            errors.append(FieldError("/output", str(exc)))

    params = body.get("params", {})
    if not isinstance(params, dict):
        errors.append(FieldError("/params", "expected an object"))
        params = {}
    params, param_errors = task.check_params(params)
    errors.extend(param_errors)

    callback_url = body.get("callback_url")
    if callback_url is not None:
        parts = urlsplit(callback_url) if isinstance(callback_url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            errors.append(FieldError("/callback_url", "expected an http:// or https:// URL"))

    priority = body.get("priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, int) or abs(priority) > MAX_PRIORITY:
        errors.append(FieldError("/priority", f"expected an integer from -{MAX_PRIORITY} to {MAX_PRIORITY}"))

    if errors:
        raise ValidationError("the job request is invalid", errors)
    return JobRequest(task.name, tuple(inputs), output, params, callback_url, priority)
