"""Storage on S3: managed transfers, server-side copies, presigned URLs.

- Writes spool to a temporary file (memory up to 64 MiB, then disk) and are uploaded with the
  managed transfer (multipart for large objects) only when the block succeeds: a failed write
  leaves no object, as on the local disk.
- copy() is S3's server-side copy through the managed transfer, which switches to multipart copy
  above 5 GB: no bytes pass through the container.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

from poky_app.aws.clients import AwsClients, error_code
from poky_app.errors import NotFound
from poky_app.uris import ObjectUri

_SPOOL_IN_MEMORY = 64 << 20
_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}
PRESIGN_OPERATIONS = {"PUT": "put_object", "GET": "get_object"}


class S3Storage:
    def __init__(self, clients: AwsClients) -> None:
        self.clients = clients

    @property
    def _s3(self) -> Any:
        return self.clients.s3

    def bucket_exists(self, bucket: str) -> bool:
        try:
            self._s3.head_bucket(Bucket=bucket)
        except Exception as exc:
            if error_code(exc) in _MISSING | {"403", "AccessDenied"}:
                return False
            raise
        return True

    def _head(self, uri: ObjectUri) -> dict[str, Any]:
        try:
            return self._s3.head_object(Bucket=uri.bucket, Key=uri.key)
        except Exception as exc:
            if error_code(exc) in _MISSING:
                raise NotFound(f"no object at {uri}") from None
            raise

    def exists(self, uri: ObjectUri) -> bool:
        try:
            self._head(uri)
        except NotFound:
            return False
        return True

    def size(self, uri: ObjectUri) -> int:
        return int(self._head(uri)["ContentLength"])

    @contextmanager
    def open_read(self, uri: ObjectUri) -> Iterator[BinaryIO]:
        try:
            body = self._s3.get_object(Bucket=uri.bucket, Key=uri.key)["Body"]
        except Exception as exc:
            if error_code(exc) in _MISSING:
                raise NotFound(f"no object at {uri}") from None
            raise
        try:
            yield body
        finally:
            body.close()

    @contextmanager
    def open_write(self, uri: ObjectUri) -> Iterator[BinaryIO]:
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as spool:
            yield spool  # type: ignore[misc]
            spool.seek(0)
            self._s3.upload_fileobj(spool, uri.bucket, uri.key)

    def copy(self, source: ObjectUri, target: ObjectUri) -> int:
        size = self.size(source)
        self._s3.copy({"Bucket": source.bucket, "Key": source.key}, target.bucket, target.key)
        return size

    def list(self, prefix: ObjectUri) -> Iterator[ObjectUri]:
        pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=prefix.bucket, Prefix=prefix.key)
        for page in pages:
            for item in page.get("Contents", []):
                yield ObjectUri(prefix.bucket, item["Key"])

    def presign(self, method: str, uri: ObjectUri, ttl_seconds: int) -> str:
        """A URL anyone holding it may PUT to or GET from until it expires."""
        return self._s3.generate_presigned_url(PRESIGN_OPERATIONS[method],
                                               Params={"Bucket": uri.bucket, "Key": uri.key},
                                               ExpiresIn=ttl_seconds)
