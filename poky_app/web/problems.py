"""Every error the API returns is application/problem+json (RFC 9457), produced here only."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, json
from werkzeug.exceptions import HTTPException

from poky_app.errors import PokyError, ValidationError

log = logging.getLogger(__name__)

PROBLEM_TYPE = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: Any) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_TYPE)


def register_problem_handlers(app: Flask) -> None:
    @app.errorhandler(PokyError)
    def poky_error(exc: PokyError) -> Response:
        extra = {"errors": [e.to_dict() for e in exc.errors]} if isinstance(exc, ValidationError) else {}
        return problem(exc.status, exc.title, exc.message, **extra)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        detail = exc.description or ""
        if status == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            detail = f"the request body is larger than {limit} bytes"
        response = problem(status, exc.name, detail)
        if status == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        # Never a stack trace to the caller; the full one goes to the server log.
        log.exception("unhandled error")
        return problem(500, "Internal error", "an unexpected error occurred; see the server log")
