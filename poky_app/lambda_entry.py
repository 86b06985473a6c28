"""The Lambda function (zappa_settings.json: "lambda_handler"): every event Poky's Lambda receives.

- API Gateway REST (v1) and HTTP API (v2) payloads -> the Flask app, through apig-wsgi;
- the "rate(1 minute)" schedule -> one reconcile pass (dispatch, missed exits, timeouts);
- EventBridge "ECS Task State Change" -> the task-state handler;
- anything else is logged and ignored: a stray event must never make the function fail.

Importing this module does nothing expensive (Lambda runs imports on every cold start): the app,
settings, catalog and AWS clients are all built on first use, and boto3 is loaded only by the
first AWS call.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("poky")

HTTP, SCHEDULE, ECS_EVENT, UNKNOWN = "http", "schedule", "ecs", "unknown"

_state: dict[str, Any] = {}


def event_kind(event: Any) -> str:
    """Which kind of event this is, from its shape alone."""
    if not isinstance(event, dict):
        return UNKNOWN
    if "requestContext" in event and ("httpMethod" in event or event.get("version") == "2.0"):
        return HTTP
    if event.get("detail-type") == "Scheduled Event" and event.get("source") == "aws.events":
        return SCHEDULE
    if event.get("detail-type") == "ECS Task State Change" and event.get("source") == "aws.ecs":
        return ECS_EVENT
    return UNKNOWN


def _built() -> dict[str, Any]:
    if not _state:
        from apig_wsgi import make_lambda_handler

        from poky_app.backends import build_service
        from poky_app.settings import load_settings
        from poky_app.web import create_app

        logging.getLogger().setLevel(logging.INFO)
        settings = load_settings()
        service = build_service(settings)
        flask_app = create_app(settings, service=service)
        _state.update(settings=settings, service=service, wsgi=flask_app,
                      http=make_lambda_handler(flask_app, binary_support=True))
    return _state


def handler(event: Any, context: Any) -> Any:
    kind = event_kind(event)
    if kind == UNKNOWN:
        keys = sorted(event)[:8] if isinstance(event, dict) else type(event).__name__
        log.warning("ignoring an event Poky does not handle (keys: %s)", keys)
        return {"ignored": True}
    built = _built()
    if kind == HTTP:
        return built["http"](event, context)
    if kind == SCHEDULE:
        built["service"].reconcile()
        return {"reconciled": True}
    from poky_app.aws.events import handle_task_state_change

    settings = built["settings"]
    container = settings.aws.container_name if settings.aws else "runner"
    outcome = handle_task_state_change(built["service"], event, container)
    log.info("ECS event: %s", outcome)
    return {"handled": outcome}


def app(environ: dict[str, Any], start_response: Any) -> Any:
    """The WSGI app (zappa_settings.json "app_function"), built on its first request."""
    return _built()["wsgi"](environ, start_response)
