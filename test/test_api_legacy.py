"""POST /process_file, the original route: form or JSON, and a 400 naming what is missing."""

from __future__ import annotations

import pytest

from test.conftest import object_path, wait_for_job


def test_form_request_copies_and_renames(client, put_input, settings) -> None:  # type: ignore[no-untyped-def]
    put_input("reports/q3.pdf", b"%PDF-1.4 ...")
    response = client.post("/process_file", data={"source_bucket": "poky-input", "source_key": "reports/q3.pdf",
                                                  "output_bucket": "poky-output"})
    assert response.status_code == 202 and response.json["task"] == "copy_rename"
    done = wait_for_job(lambda: client.get(f"/jobs/{response.json['id']}").json)
    [output] = done["result"]["outputs"]
    assert output.startswith("s3://poky-output/q3_") and output.endswith(".pdf")
    assert object_path(settings, output).read_bytes() == b"%PDF-1.4 ..."


def test_json_request_works_too(client, put_input) -> None:  # type: ignore[no-untyped-def]
    put_input("a.txt", b"a")
    response = client.post("/process_file", json={"source_bucket": "poky-input", "source_key": "a.txt",
                                                  "output_bucket": "poky-output"})
    assert response.status_code == 202


@pytest.mark.parametrize(("fields", "named"), [
    ({"source_key": "a.txt", "output_bucket": "poky-output"}, "source_bucket"),
    ({"source_bucket": "poky-input", "output_bucket": "poky-output"}, "source_key"),
    ({"source_bucket": "poky-input", "source_key": "a.txt"}, "output_bucket"),
    ({"source_bucket": "no-such-bucket", "source_key": "a.txt", "output_bucket": "poky-output"}, "source_bucket"),
    ({"source_bucket": "poky-input", "source_key": "missing.txt", "output_bucket": "poky-output"}, "source_key"),
    ({"source_bucket": "poky-input", "source_key": "a.txt", "output_bucket": "no-such-output"}, "output_bucket"),
    ({"source_bucket": "poky-input", "source_key": "../a.txt", "output_bucket": "poky-output"}, "source_key"),
    ({"source_bucket": "poky-input", "source_key": "a.txt", "output_bucket": "Bad Bucket"}, "output_bucket"),
])
def test_400_names_what_is_missing(client, put_input, fields, named) -> None:  # type: ignore[no-untyped-def]
    put_input("a.txt", b"a")
    response = client.post("/process_file", data=fields)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert named in response.json["detail"]
    assert response.json["errors"][0]["location"] == f"/{named}"
