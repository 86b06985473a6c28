"""An importable Postman collection (v2.1) made from the OpenAPI document, so local Postman use
always matches the API: one request per route, grouped by the first path segment, with example
bodies from the document and {{baseUrl}} as a collection variable."""

from __future__ import annotations

import json
from typing import Any

POSTMAN_SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref", "")
    return document["components"]["schemas"][ref.rsplit("/", 1)[-1]] if ref else schema


def _request(document: dict[str, Any], path: str, method: str, operation: dict[str, Any],
             shared: list[dict[str, Any]]) -> dict[str, Any]:
    parameters = [*shared, *operation.get("parameters", [])]
    segments = [f":{s[1:-1]}" if s.startswith("{") else s for s in path.strip("/").split("/")]
    url: dict[str, Any] = {"raw": "{{baseUrl}}/" + "/".join(segments), "host": ["{{baseUrl}}"], "path": segments}
    variables = [{"key": p["name"], "value": ""} for p in parameters if p["in"] == "path"]
    query = [{"key": p["name"], "value": "", "disabled": not p.get("required", False)}
             for p in parameters if p["in"] == "query"]
    if variables:
        url["variable"] = variables
    if query:
        url["query"] = query
        url["raw"] += "?" + "&".join(f"{q['key']}=" for q in query)
    request: dict[str, Any] = {"method": method.upper(), "header": [], "url": url,
                               "description": operation.get("summary", "")}
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        schema = _resolve(document, content["application/json"]["schema"])
        request["header"].append({"key": "Content-Type", "value": "application/json"})
        request["body"] = {"mode": "raw", "raw": json.dumps(schema.get("example", {}), indent=2),
                           "options": {"raw": {"language": "json"}}}
    return {"name": operation.get("summary", f"{method.upper()} {path}"), "request": request}


def collection_from_openapi(document: dict[str, Any], base_url: str = "http://127.0.0.1:8000") -> dict[str, Any]:
    folders: dict[str, list[dict[str, Any]]] = {}
    for path, item in document["paths"].items():
        shared = item.get("parameters", [])
        for method, operation in item.items():
            if method == "parameters":
                continue
            folder = path.strip("/").split("/")[0] or "root"
            folders.setdefault(folder, []).append(_request(document, path, method, operation, shared))
    return {
        "info": {"name": document["info"]["title"], "description": document["info"].get("description", ""),
                 "schema": POSTMAN_SCHEMA},
        "variable": [{"key": "baseUrl", "value": base_url}],
        "item": [{"name": name, "item": requests} for name, requests in folders.items()],
    }
