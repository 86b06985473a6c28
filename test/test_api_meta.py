"""Health, the task catalog and the OpenAPI document (which must name every route)."""

from __future__ import annotations

import re


def test_healthz(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/healthz").json == {"status": "ok"}


def test_tasks_show_schemas_and_defaults(client) -> None:  # type: ignore[no-untyped-def]
    tasks = {t["name"]: t for t in client.get("/tasks").json["tasks"]}
    assert set(tasks) == {"copy_rename", "compress", "sleep"}
    assert tasks["compress"]["params_schema"]["properties"]["level"]["maximum"] == 9
    assert tasks["copy_rename"]["inputs"]["buckets"] == ["poky-input"]
    assert tasks["sleep"]["output_bucket"] == "poky-output"


def test_openapi_documents_every_route(app, client) -> None:  # type: ignore[no-untyped-def]
    document = client.get("/openapi.json").json
    assert document["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, item in document["paths"].items()
                  for method in item if method != "parameters"}
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        served |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert served == documented
