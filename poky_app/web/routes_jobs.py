"""/jobs: submit, read, list, cancel, logs."""

from __future__ import annotations

from flask import Blueprint, request, url_for
from flask.typing import ResponseReturnValue

from poky_app.errors import BadRequest, FieldError, ValidationError
from poky_app.jobs import Job
from poky_app.service import MAX_WAIT_SECONDS, job_etag
from poky_app.web.context import json_body, service

blueprint = Blueprint("jobs", __name__)


def accepted(job: Job) -> ResponseReturnValue:
    return job.to_public(), 202, {"Location": url_for("jobs.get_job", job_id=job.id)}


@blueprint.post("/jobs")
def submit_job() -> ResponseReturnValue:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not (0 < len(key) <= 255 and key.isascii() and key.isprintable()):
        raise BadRequest("Idempotency-Key must be 1 to 255 printable ASCII characters",
                         [FieldError("/headers/Idempotency-Key", "bad value")])
    job, created = service().submit(json_body(), idempotency_key=key)
    if not created:  # a repeat of an earlier request: the same job, not a new one
        return job.to_public(), 200, {"Location": url_for("jobs.get_job", job_id=job.id)}
    return accepted(job)


@blueprint.get("/jobs/<job_id>")
def get_job(job_id: str) -> ResponseReturnValue:
    """With ?wait=S and If-None-Match: <etag>, answer as soon as the job changes (up to S seconds)."""
    wait = request.args.get("wait")
    if wait is None:
        job = service().refresh(service().get(job_id))
    else:
        try:
            seconds = float(wait)
            if not 0 <= seconds <= MAX_WAIT_SECONDS:
                raise ValueError
        except ValueError:
            raise ValidationError("bad query", [FieldError(
                "/query/wait", f"expected seconds from 0 to {MAX_WAIT_SECONDS:g}")]) from None
        seen = request.headers.get("If-None-Match")
        job = service().wait_for_change(job_id, seen, seconds)
    return job.to_public(), 200, {"ETag": job_etag(job)}


@blueprint.get("/jobs")
def list_jobs() -> ResponseReturnValue:
    args = request.args
    jobs, next_cursor = service().list(status=args.get("status"), task=args.get("task"),
                                       limit=args.get("limit"), cursor=args.get("cursor"))
    return {"jobs": [job.to_public() for job in jobs], "next_cursor": next_cursor}


@blueprint.post("/jobs/<job_id>/cancel")
def cancel_job(job_id: str) -> ResponseReturnValue:
    return service().cancel(job_id).to_public(), 202


@blueprint.post("/jobs/<job_id>/retry")
def retry_job(job_id: str) -> ResponseReturnValue:
    return accepted(service().retry(job_id))


@blueprint.get("/jobs/<job_id>/logs")
def job_logs(job_id: str) -> ResponseReturnValue:
    lines, next_cursor = service().logs(job_id, request.args.get("cursor"))
    return {"lines": lines, "next_cursor": next_cursor}
