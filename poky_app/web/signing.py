"""Short-lived signed URLs for the local object routes (the embedded stand-in for presigned S3).

signature = HMAC-SHA256(secret, "<METHOD>\n<bucket>\n<key>\n<expires>"), compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

from poky_app.errors import Forbidden


def load_or_create_secret(path: Path) -> bytes:
    """The signing key persists in POKY_HOME so URLs survive a restart of the server."""
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        key = secrets.token_bytes(32)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(key.hex())
        return key


class UrlSigner:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def sign(self, method: str, bucket: str, key: str, expires: int) -> str:
        message = f"{method}\n{bucket}\n{key}\n{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def verify(self, method: str, bucket: str, key: str, expires: str | None, signature: str | None,
               now: float) -> None:
        if not expires or not signature or not expires.isdigit():
            raise Forbidden("this URL is not signed; ask POST /uploads or POST /downloads for one")
        if not hmac.compare_digest(self.sign(method, bucket, key, int(expires)), signature):
            raise Forbidden("the URL's signature does not match")
        if int(expires) < now:
            raise Forbidden("the URL has expired; ask for a new one")
