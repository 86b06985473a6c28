"""Object addresses (s3://bucket/key), the same in local and AWS mode.

Keys are checked here once, strictly, so no adapter ever sees a key that could escape its bucket
directory (``..``, absolute paths, backslashes, control characters).
"""

from __future__ import annotations

import re
from collections import namedtuple

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_MAX_KEY_BYTES = 1024


class UriError(ValueError):
    """The text is not an acceptable s3://bucket/key address; the message says why."""


class ObjectUri(namedtuple("ObjectUri", "bucket key")):
    """An object (or, with a key ending in '/', a prefix). A namedtuple for the runner's start-up."""

    __slots__ = ()
    bucket: str
    key: str

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def is_prefix(self) -> bool:
        """A prefix (folder) address: empty key or one ending in '/'."""
        return self.key == "" or self.key.endswith("/")

    def join(self, name: str) -> ObjectUri:
        if not self.is_prefix:
            raise UriError(f"{self} is not a prefix (it must end with '/')")
        return ObjectUri(self.bucket, validate_key(self.key + name, allow_prefix=False))

    @property
    def name(self) -> str:
        return self.key.rstrip("/").rsplit("/", 1)[-1]


def validate_bucket(bucket: str) -> str:
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise UriError(
            f"bad bucket name {bucket!r}: 3-63 characters of a-z, 0-9, '.' and '-', "
            "starting and ending with a letter or digit"
        )
    return bucket


def validate_key(key: str, *, allow_prefix: bool) -> str:
    if key.startswith("/"):
        raise UriError("the key must not start with '/' (absolute paths are not allowed)")
    if "\\" in key or any(ord(c) < 32 or ord(c) == 127 for c in key):
        raise UriError("the key must not contain backslashes or control characters")
    if len(key.encode()) > _MAX_KEY_BYTES:
        raise UriError(f"the key is longer than {_MAX_KEY_BYTES} bytes")
    segments = key.split("/")
    body = segments[:-1] if key.endswith("/") else segments
    if key and any(s in ("", ".", "..") for s in body):
        raise UriError("the key must not contain empty, '.' or '..' path segments")
    if not allow_prefix and (key == "" or key.endswith("/")):
        raise UriError("the address names a prefix, not an object (it is empty or ends with '/')")
    return key


def parse_uri(text: object, *, allow_prefix: bool = False) -> ObjectUri:
    """Parse ``s3://bucket/key``; with ``allow_prefix`` the key may be empty or end in '/'."""
    if not isinstance(text, str):
        raise UriError("expected a string of the form s3://bucket/key")
    if not text.startswith("s3://"):
        raise UriError(f"{text!r} does not start with s3://")
    bucket, _, key = text[len("s3://") :].partition("/")
    return ObjectUri(validate_bucket(bucket), validate_key(key, allow_prefix=allow_prefix))
