"""Uploads and downloads through short-lived signed URLs served by the control plane itself."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from test.conftest import object_path


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_upload_then_download_round_trip(client, settings) -> None:  # type: ignore[no-untyped-def]
    ticket = client.post("/uploads", json={"uri": "s3://poky-input/data/in.bin"}).json
    assert ticket["method"] == "PUT" and ticket["expires_at"].endswith("Z")
    data = bytes(range(256)) * 10_000  # 2.5 MB: larger than the 1 MiB JSON cap
    response = client.put(path_of(ticket["url"]), data=data)
    assert response.status_code == 201 and response.json == {"uri": "s3://poky-input/data/in.bin", "size": len(data)}
    assert object_path(settings, "s3://poky-input/data/in.bin").read_bytes() == data
    ticket = client.post("/downloads", json={"uri": "s3://poky-input/data/in.bin"}).json
    assert ticket["method"] == "GET"
    response = client.get(path_of(ticket["url"]))
    assert response.status_code == 200 and response.data == data
    assert response.headers["Content-Length"] == str(len(data))


def test_uploads_only_to_input_buckets(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/uploads", json={"uri": "s3://poky-output/x"})
    assert response.status_code == 422 and response.json["errors"][0]["location"] == "/uri"


def test_download_of_a_missing_object_is_404(client) -> None:  # type: ignore[no-untyped-def]
    assert client.post("/downloads", json={"uri": "s3://poky-output/none"}).status_code == 404


def test_tampered_unsigned_and_expired_urls_are_refused(client, app) -> None:  # type: ignore[no-untyped-def]
    ticket = client.post("/uploads", json={"uri": "s3://poky-input/a.txt"}).json
    url = path_of(ticket["url"])
    assert client.put(url.replace("a.txt", "b.txt"), data=b"x").status_code == 403
    assert client.get(url).status_code == 403  # a PUT ticket does not allow GET
    assert client.put("/objects/poky-input/a.txt", data=b"x").status_code == 403
    from poky_app.web.routes_transfers import url_signer

    signer = url_signer(app)
    expired = int(time.time()) - 1
    signature = signer.sign("PUT", "poky-input", "a.txt", expired)
    stale = f"/objects/poky-input/a.txt?expires={expired}&signature={signature}"
    response = client.put(stale, data=b"x")
    assert response.status_code == 403 and "expired" in response.json["detail"]


def test_signed_urls_survive_a_restart(settings, service) -> None:  # type: ignore[no-untyped-def]
    from poky_app.web import create_app

    first = create_app(settings, service=service).test_client()
    ticket = first.post("/uploads", json={"uri": "s3://poky-input/r.txt"}).json
    second = create_app(settings, service=service).test_client()
    assert second.put(path_of(ticket["url"]), data=b"r").status_code == 201
