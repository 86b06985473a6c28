"""Bad input anywhere gets a 4xx problem+json that says what is wrong; never a 500."""

from __future__ import annotations

import json

import pytest

PROBLEM = "application/problem+json"


def problem(response, status):  # type: ignore[no-untyped-def]
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == PROBLEM
    body = response.json
    assert body["status"] == status and body["title"] and "detail" in body
    return body


def test_malformed_json(client) -> None:  # type: ignore[no-untyped-def]
    body = problem(client.post("/jobs", data='{"task": "sleep",', content_type="application/json"), 400)
    assert "malformed JSON" in body["detail"]
    problem(client.post("/jobs", data="", content_type="application/json"), 400)
    problem(client.post("/jobs", data=b"\xff\xfe", content_type="application/json"), 400)


def test_unknown_task(client) -> None:  # type: ignore[no-untyped-def]
    body = problem(client.post("/jobs", json={"task": "transcode"}), 404)
    assert "transcode" in body["detail"] and "copy_rename" in body["detail"]


def test_bad_params_name_each_field(client, put_input) -> None:  # type: ignore[no-untyped-def]
    uri = put_input("a.txt", b"a")
    body = problem(client.post("/jobs", json={"task": "compress", "inputs": [uri],
                                              "params": {"level": "max", "speed": 1}}), 422)
    assert {e["location"] for e in body["errors"]} == {"/params", "/params/level"}


def test_input_outside_allowed_buckets(client) -> None:  # type: ignore[no-untyped-def]
    body = problem(client.post("/jobs", json={"task": "copy_rename", "inputs": ["s3://poky-output/x.txt"]}), 422)
    assert body["errors"][0]["location"] == "/inputs/0" and "poky-input" in body["errors"][0]["message"]


@pytest.mark.parametrize("key", ["../../etc/passwd", "/etc/passwd", "a/../../../etc/passwd", "a/./b",
                                 "..", "a\\..\\b", "a//b"])
def test_path_traversal_in_keys(client, key) -> None:  # type: ignore[no-untyped-def]
    body = problem(client.post("/jobs", json={"task": "copy_rename", "inputs": [f"s3://poky-input/{key}"]}), 422)
    assert body["errors"][0]["location"] == "/inputs/0"
    problem(client.post("/jobs", json={"task": "copy_rename", "inputs": ["s3://poky-input/a"],
                                       "output": f"s3://poky-output/{key}/"}), 422)
    assert client.post("/uploads", json={"uri": f"s3://poky-input/{key}"}).status_code == 422


def test_missing_input_object(client) -> None:  # type: ignore[no-untyped-def]
    body = problem(client.post("/jobs", json={"task": "copy_rename", "inputs": ["s3://poky-input/none.txt"]}), 422)
    assert body["errors"] == [{"location": "/inputs/0", "message": "no object at s3://poky-input/none.txt"}]


def test_body_over_one_mib_is_413(client) -> None:  # type: ignore[no-untyped-def]
    huge = json.dumps({"task": "sleep", "params": {"pad": "x" * (1 << 20)}})
    problem(client.post("/jobs", data=huge, content_type="application/json"), 413)
    problem(client.post("/process_file", data={"source_bucket": "x" * (1 << 20)}), 413)


def test_unknown_route_and_wrong_method(client) -> None:  # type: ignore[no-untyped-def]
    problem(client.get("/nope"), 404)
    response = client.delete("/jobs")
    problem(response, 405)
    assert "POST" in response.headers["Allow"]


JUNK = [None, [], "text", 0, {"task": None}, {"task": ["sleep"]}, {"task": "sleep", "inputs": "s3://a/b"},
        {"task": "sleep", "inputs": [None]}, {"task": "sleep", "params": []}, {"task": "sleep", "priority": True},
        {"task": "sleep", "params": {"seconds": -1}}, {"task": "sleep", "params": {"seconds": 1e309}},
        {"task": "copy_rename", "inputs": ["s3://poky-input/" + "k" * 2000]}, {"task": "sleep", "output": 5},
        {"task": "sleep", "callback_url": 7}, {"task": "\u0000"}, {"task": "sleep", "inputs": [{"uri": 1}]}]


@pytest.mark.parametrize("body", JUNK)
def test_junk_bodies_never_500(client, body) -> None:  # type: ignore[no-untyped-def]
    for path in ("/jobs", "/uploads", "/downloads", "/process_file"):
        response = client.post(path, data=json.dumps(body), content_type="application/json")
        assert 400 <= response.status_code < 500, (path, body, response.get_data(as_text=True))
        assert response.mimetype == PROBLEM
