"""The HTTP API (Flask). create_app() is the factory used by `poky serve`, the tests and Zappa."""

from __future__ import annotations

from flask import Flask

from poky_app.backends import build_service
from poky_app.service import JobService
from poky_app.settings import Settings, load_settings
from poky_app.web import routes_jobs, routes_legacy, routes_meta, routes_transfers
from poky_app.web.problems import register_problem_handlers

MAX_REQUEST_BYTES = 1 << 20  # 1 MiB: API bodies are small; object bytes go to /objects instead


def create_app(settings: Settings | None = None, *, service: JobService | None = None) -> Flask:
    settings = settings or load_settings()
    service = service or build_service(settings)
    app = Flask("poky_app")
    app.config.update(MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES, JSON_SORT_KEYS=False)
    app.extensions["poky"] = service
    app.extensions["poky_settings"] = settings
    for module in (routes_meta, routes_jobs, routes_legacy, routes_transfers):
        app.register_blueprint(module.blueprint)
    register_problem_handlers(app)
    return app
