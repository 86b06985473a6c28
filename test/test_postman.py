"""The Postman collection covers every documented route and the committed copy is current."""

from __future__ import annotations

import json

from poky_app.settings import PROJECT_ROOT
from poky_app.web.openapi import openapi_document
from poky_app.web.postman import collection_from_openapi


def test_every_route_is_a_request_with_examples() -> None:
    document = openapi_document()
    collection = collection_from_openapi(document)
    requests = [r for folder in collection["item"] for r in folder["item"]]
    documented = sum(len([m for m in item if m != "parameters"]) for item in document["paths"].values())
    assert len(requests) == documented
    submit = next(r["request"] for r in requests
                  if r["request"]["method"] == "POST" and r["request"]["url"]["path"] == ["jobs"])
    assert json.loads(submit["body"]["raw"])["task"] == "compress"
    cancel = next(r["request"] for r in requests if r["request"]["url"]["path"][-1:] == ["cancel"])
    assert cancel["url"]["raw"] == "{{baseUrl}}/jobs/:job_id/cancel"
    assert collection["info"]["schema"].endswith("/v2.1.0/collection.json")


def test_the_committed_collection_matches_the_api() -> None:
    committed = json.loads((PROJECT_ROOT / "docs" / "poky.postman_collection.json").read_text())
    assert committed == collection_from_openapi(openapi_document()), (
        "regenerate it: poky postman --output docs/poky.postman_collection.json (against a local server)")

