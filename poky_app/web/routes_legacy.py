"""POST /process_file: the original Poky route, kept for existing callers (form or JSON)."""

from __future__ import annotations

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from poky_app.web.context import json_body, service
from poky_app.web.routes_jobs import accepted

blueprint = Blueprint("legacy", __name__)


@blueprint.post("/process_file")
def process_file() -> ResponseReturnValue:
    fields = json_body() if request.is_json else request.form.to_dict()
    if not isinstance(fields, dict):
        fields = {}
    return accepted(service().submit_legacy(fields))
