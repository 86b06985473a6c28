"""Small helpers every route module shares: the service, settings and a strict JSON body reader."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, request

from poky_app.errors import BadRequest, FieldError
from poky_app.service import JobService
from poky_app.settings import Settings


def service() -> JobService:
    return current_app.extensions["poky"]


def settings() -> Settings:
    return current_app.extensions["poky_settings"]


def json_body() -> Any:
    """The request body as JSON, or a 400 that says what is wrong with it (413 past the limit)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise BadRequest("the request body is empty; expected JSON", [FieldError("/", "empty body")])
    try:
        return json.loads(raw)
    except UnicodeDecodeError:
        raise BadRequest("the request body is not UTF-8 text", [FieldError("/", "not UTF-8")]) from None
    except json.JSONDecodeError as exc:
        detail = f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        raise BadRequest(detail, [FieldError("/", detail)]) from None
