"""The OpenAPI 3.1 document served at /openapi.json. A test checks it names every route."""

from __future__ import annotations

from typing import Any


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_PROBLEM = {"description": "Error", "content": {"application/problem+json": {"schema": _ref("Problem")}}}
_ERRORS = {"400": _PROBLEM, "404": _PROBLEM, "413": _PROBLEM, "422": _PROBLEM}
_JOB_ID = {"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}
_URI = {"type": "string", "pattern": "^s3://", "examples": ["s3://poky-input/data/report.csv"]}

_SCHEMAS: dict[str, Any] = {
    "Problem": {"type": "object", "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "location": {"type": "string"}, "message": {"type": "string"}}}}}},
    "JobRequest": {"type": "object", "required": ["task"], "additionalProperties": False,
                   "example": {"task": "compress", "inputs": ["s3://poky-input/data/report.csv"],
                               "params": {"level": 6}},
                   "properties": {
        "task": {"type": "string"}, "inputs": {"type": "array", "items": _URI},
        "output": {**_URI, "description": "A prefix; default s3://<output bucket>/<job id>/"},
        "params": {"type": "object"}, "callback_url": {"type": "string", "format": "uri"},
        "priority": {"type": "integer", "minimum": -1000, "maximum": 1000}}},
    "Job": {"type": "object", "properties": {
        "id": {"type": "string"}, "task": {"type": "string"},
        "status": {"enum": ["queued", "starting", "running", "succeeded", "failed", "cancelled", "timed_out"]},
        "inputs": {"type": "array", "items": _URI}, "output": _URI, "params": {"type": "object"},
        "priority": {"type": "integer"}, "attempt": {"type": "integer"},
        "attempts": {"type": "array", "items": {"type": "object"}},
        "created_at": {"type": "string", "format": "date-time"},
        "started_at": {"type": ["string", "null"], "format": "date-time"},
        "finished_at": {"type": ["string", "null"], "format": "date-time"},
        "progress": {"type": ["object", "null"], "properties": {
            "done": {"type": "number"}, "total": {"type": ["number", "null"]}, "message": {"type": "string"}}},
        "result": {"type": ["object", "null"], "properties": {"outputs": {"type": "array", "items": _URI}}},
        "error": {"type": ["object", "null"], "properties": {
            "reason": {"type": "string"}, "message": {"type": "string"}, "hint": {"type": "string"}}},
        "cancel_requested": {"type": "boolean"}, "callback_url": {"type": ["string", "null"]}}},
    "JobList": {"type": "object", "properties": {
        "jobs": {"type": "array", "items": _ref("Job")}, "next_cursor": {"type": ["string", "null"]}}},
    "LogPage": {"type": "object", "properties": {
        "lines": {"type": "array", "items": {"type": "string"}},
        "next_cursor": {"type": ["string", "null"], "description": "null once the job is over and all is read"}}},
    "Task": {"type": "object", "properties": {
        "name": {"type": "string"}, "description": {"type": "string"}, "params_schema": {"type": "object"},
        "inputs": {"type": "object"}, "output_bucket": {"type": "string"},
        "timeout_seconds": {"type": "number"}, "cpu": {"type": "integer"}, "memory": {"type": "integer"}}},
    "TransferRequest": {"type": "object", "required": ["uri"], "properties": {"uri": _URI},
                        "example": {"uri": "s3://poky-input/data/report.csv"}},
    "TransferTicket": {"type": "object", "properties": {
        "url": {"type": "string"}, "method": {"enum": ["PUT", "GET"]}, "headers": {"type": "object"},
        "expires_at": {"type": "string", "format": "date-time"}}},
    "LegacyRequest": {"type": "object", "required": ["source_bucket", "source_key", "output_bucket"],
                      "example": {"source_bucket": "poky-input", "source_key": "data/report.csv",
                                  "output_bucket": "poky-output"},
                      "properties": {"source_bucket": {"type": "string"}, "source_key": {"type": "string"},
                                     "output_bucket": {"type": "string"}}},
}

_PATHS: dict[str, Any] = {
    "/healthz": {"get": {"summary": "Liveness", "responses": {"200": _json(
        {"type": "object", "properties": {"status": {"const": "ok"}}}, "Alive")}}},
    "/openapi.json": {"get": {"summary": "This document", "responses": {"200": _json({"type": "object"}, "OpenAPI")}}},
    "/tasks": {"get": {"summary": "The task catalog", "responses": {"200": _json(
        {"type": "object", "properties": {"tasks": {"type": "array", "items": _ref("Task")}}}, "Tasks")}}},
    "/jobs": {
        "post": {"summary": "Submit a job", "requestBody": {"required": True, "content": {
            "application/json": {"schema": _ref("JobRequest")}}},
            "parameters": [{"name": "Idempotency-Key", "in": "header", "schema": {"type": "string", "maxLength": 255},
                            "description": "Repeat a request safely: same key and body, same job (24 h)"}],
            "responses": {"202": _json(_ref("Job"), "Accepted; Location names the job"),
                          "200": _json(_ref("Job"), "A repeat of an earlier request with this Idempotency-Key"),
                          "409": _PROBLEM, **_ERRORS}},
        "get": {"summary": "List jobs, newest first", "parameters": [
            {"name": "status", "in": "query", "schema": {"type": "string"}},
            {"name": "task", "in": "query", "schema": {"type": "string"}},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
            {"name": "cursor", "in": "query", "schema": {"type": "string"}}],
            "responses": {"200": _json(_ref("JobList"), "A page of jobs"), **_ERRORS}}},
    "/jobs/{job_id}": {"get": {
        "summary": "One job; with ?wait=S and If-None-Match, a long-poll that answers when it changes",
        "parameters": [_JOB_ID, {"name": "wait", "in": "query", "schema": {"type": "number", "maximum": 20}},
                       {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}}],
        "responses": {"200": {**_json(_ref("Job"), "The job"), "headers": {"ETag": {"schema": {"type": "string"}}}},
                      "404": _PROBLEM, "422": _PROBLEM}}},
    "/jobs/{job_id}/cancel": {"post": {"summary": "Cancel a job", "parameters": [_JOB_ID], "responses": {
        "202": _json(_ref("Job"), "Cancelling"), "404": _PROBLEM, "409": _PROBLEM}}},
    "/jobs/{job_id}/retry": {"post": {"summary": "Run a failed, cancelled or timed-out job again (a new attempt)",
                                      "parameters": [_JOB_ID], "responses": {
                                          "202": _json(_ref("Job"), "Queued again"), "404": _PROBLEM,
                                          "409": _PROBLEM}}},
    "/jobs/{job_id}/logs": {"get": {"summary": "A page of the job's log lines", "parameters": [
        _JOB_ID, {"name": "cursor", "in": "query", "schema": {"type": "string"}}],
        "responses": {"200": _json(_ref("LogPage"), "Log lines"), "404": _PROBLEM}}},
    "/uploads": {"post": {"summary": "A short-lived URL to PUT an input object", "requestBody": {
        "required": True, "content": {"application/json": {"schema": _ref("TransferRequest")}}},
        "responses": {"200": _json(_ref("TransferTicket"), "Where to PUT the bytes"), **_ERRORS}}},
    "/downloads": {"post": {"summary": "A short-lived URL to GET an object", "requestBody": {
        "required": True, "content": {"application/json": {"schema": _ref("TransferRequest")}}},
        "responses": {"200": _json(_ref("TransferTicket"), "Where to GET the bytes"), **_ERRORS}}},
    "/process_file": {"post": {"summary": "The original Poky route: copy and rename one object",
                               "requestBody": {"required": True, "content": {
                                   "application/json": {"schema": _ref("LegacyRequest")},
                                   "application/x-www-form-urlencoded": {"schema": _ref("LegacyRequest")}}},
                               "responses": {"202": _json(_ref("Job"), "Accepted"), **_ERRORS}}},
    "/objects/{bucket}/{key}": {
        "parameters": [{"name": "bucket", "in": "path", "required": True, "schema": {"type": "string"}},
                       {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}},
                       {"name": "expires", "in": "query", "required": True, "schema": {"type": "integer"}},
                       {"name": "signature", "in": "query", "required": True, "schema": {"type": "string"}}],
        "put": {"summary": "Upload bytes (local mode; signed URL from /uploads)",
                "responses": {"201": _json({"type": "object"}, "Stored"), "403": _PROBLEM}},
        "get": {"summary": "Download bytes (local mode; signed URL from /downloads)",
                "responses": {"200": {"description": "The object's bytes"}, "403": _PROBLEM, "404": _PROBLEM}}},
}


def openapi_document() -> dict[str, Any]:
    return {"openapi": "3.1.0",
            "info": {"title": "Poky", "version": "1.0.0",
                     "description": "Run slow data jobs on demand, one container per job."},
            "paths": _PATHS, "components": {"schemas": _SCHEMAS}}
