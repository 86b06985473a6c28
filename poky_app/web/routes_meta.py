"""Health, the task catalog and the OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from poky_app.web.context import service
from poky_app.web.openapi import openapi_document

blueprint = Blueprint("meta", __name__)


@blueprint.get("/healthz")
def healthz() -> ResponseReturnValue:
    return {"status": "ok"}


@blueprint.get("/tasks")
def tasks() -> ResponseReturnValue:
    return {"tasks": [task.to_public() for task in service().catalog]}


@blueprint.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    return jsonify(openapi_document())
