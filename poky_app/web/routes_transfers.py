"""Moving bytes in and out without touching the server's disk directly.

POST /uploads and POST /downloads hand out short-lived signed URLs; locally those URLs point at
/objects/<bucket>/<key> on this same server, which checks the signature and streams the bytes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import quote

from flask import Blueprint, Flask, Response, current_app, request
from flask.typing import ResponseReturnValue

from poky_app.errors import FieldError, NotFound, ValidationError
from poky_app.jobs import utc_iso
from poky_app.ports import PresigningStorage
from poky_app.uris import ObjectUri, UriError, parse_uri
from poky_app.web.context import json_body, service, settings
from poky_app.web.signing import UrlSigner, load_or_create_secret

blueprint = Blueprint("transfers", __name__)

_CHUNK = 1 << 20
MAX_OBJECT_BYTES = 5 << 40  # S3's largest object (5 TiB); the API's 1 MiB cap is for JSON bodies


def url_signer(app: Flask) -> UrlSigner:
    """Made on first use: only local storage needs it, and on Lambda POKY_HOME is not writable."""
    if "poky_signer" not in app.extensions:
        settings = app.extensions["poky_settings"]
        key = settings.secret_key.encode() if settings.secret_key else load_or_create_secret(
            settings.home / "secret_key")
        app.extensions["poky_signer"] = UrlSigner(key)
    return app.extensions["poky_signer"]


def _signer() -> UrlSigner:
    return url_signer(current_app)


def _requested_uri() -> ObjectUri:
    body = json_body()
    raw = body.get("uri") if isinstance(body, dict) else None
    try:
        return parse_uri(raw)
    except UriError as exc:
        raise ValidationError("bad uri", [FieldError("/uri", str(exc))]) from None


def _ticket(method: str, uri: ObjectUri) -> dict:
    """On AWS a presigned S3 URL; locally a signed URL of this server's own /objects route."""
    ttl = settings().url_ttl_seconds
    expires = int(time.time()) + ttl
    storage = service().storage
    if isinstance(storage, PresigningStorage):
        url = storage.presign(method, uri, ttl)
    else:
        signature = _signer().sign(method, uri.bucket, uri.key, expires)
        url = (f"{request.host_url}objects/{quote(uri.bucket)}/{quote(uri.key)}"
               f"?expires={expires}&signature={signature}")
    return {"url": url, "method": method, "headers": {}, "expires_at": utc_iso(expires)}


def _input_buckets() -> set[str]:
    return {bucket for task in service().catalog for bucket in task.input_buckets} | {settings().input_bucket}


@blueprint.post("/uploads")
def create_upload() -> ResponseReturnValue:
    uri = _requested_uri()
    allowed = _input_buckets()
    if uri.bucket not in allowed:
        raise ValidationError("uploads go only to input buckets", [FieldError(
            "/uri", f"bucket {uri.bucket!r} is not an input bucket (allowed: {', '.join(sorted(allowed))})")])
    return _ticket("PUT", uri)


@blueprint.post("/downloads")
def create_download() -> ResponseReturnValue:
    uri = _requested_uri()
    if not service().storage.exists(uri):
        raise NotFound(f"no object at {uri}")
    return _ticket("GET", uri)


def _signed_object(method: str, bucket: str, key: str) -> ObjectUri:
    try:
        uri = parse_uri(f"s3://{bucket}/{key}")
    except UriError as exc:
        raise NotFound(str(exc)) from None
    _signer().verify(method, uri.bucket, uri.key, request.args.get("expires"),
                     request.args.get("signature"), time.time())
    return uri


@blueprint.put("/objects/<bucket>/<path:key>")
def put_object(bucket: str, key: str) -> ResponseReturnValue:
    uri = _signed_object("PUT", bucket, key)
    request.max_content_length = MAX_OBJECT_BYTES
    stream = request.stream
    size = 0
    with service().storage.open_write(uri) as sink:
        while chunk := stream.read(_CHUNK):
            sink.write(chunk)
            size += len(chunk)
    return {"uri": str(uri), "size": size}, 201


@blueprint.get("/objects/<bucket>/<path:key>")
def get_object(bucket: str, key: str) -> ResponseReturnValue:
    uri = _signed_object("GET", bucket, key)
    storage = service().storage
    size = storage.size(uri)

    def chunks() -> Iterator[bytes]:
        with storage.open_read(uri) as source:
            while chunk := source.read(_CHUNK):
                yield chunk

    return Response(chunks(), mimetype="application/octet-stream",
                    headers={"Content-Length": str(size),
                             "Content-Disposition": f"attachment; filename=\"{quote(uri.name)}\""})
