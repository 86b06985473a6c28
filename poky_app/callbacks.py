"""Tell a job's callback_url that the job has ended: POST of the job as JSON, a few tries, in the
background so no request or exit handler ever waits on someone else's server."""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from typing import Any

log = logging.getLogger(__name__)

TRIES = 4
TIMEOUT_SECONDS = 10


def _deliver(url: str, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    for attempt in range(TRIES):
        request = urllib.request.Request(
            url, data=body, method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "poky-callback/1"})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                if response.status < 500:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                log.warning("callback %s refused job %s: HTTP %s", url, payload["id"], exc.code)
                return
        except OSError as exc:
            log.info("callback %s for job %s failed: %s", url, payload["id"], exc)
        time.sleep(2**attempt)
    log.warning("callback %s for job %s gave up after %d tries", url, payload["id"], TRIES)


def notify(url: str, payload: dict[str, Any]) -> None:
    threading.Thread(target=_deliver, args=(url, payload), name="callback", daemon=True).start()
