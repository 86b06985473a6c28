"""`poky serve`: the control plane on this machine (waitress + the reconcile monitor).

One server per POKY_HOME, enforced with a lock file: two would both dispatch the same queue.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
from pathlib import Path
from typing import IO

from poky_app.errors import ConfigError
from poky_app.settings import Settings


def _lock_home(home: Path) -> IO[str]:
    home.mkdir(parents=True, exist_ok=True)
    handle = (home / "server.lock").open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise ConfigError(f"another `poky serve` is already using POKY_HOME={home}") from None
    handle.truncate(0)
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def serve(settings: Settings, host: str, port: int, threads: int = 32) -> None:
    import waitress

    from poky_app.backends import build_service
    from poky_app.monitor import Monitor
    from poky_app.web import create_app
    from poky_app.web.routes_transfers import MAX_OBJECT_BYTES

    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    lock = _lock_home(settings.home)
    service = build_service(settings)
    service.catalog  # noqa: B018  (load it now: a bad catalog should stop the server at start-up)
    app = create_app(settings, service=service)
    # SIGTERM (systemd, docker stop, kill) shuts down like Ctrl-C. Running jobs keep running:
    # the next server re-adopts them.
    signal.signal(signal.SIGTERM, _interrupt)
    monitor = Monitor(service, settings.monitor_interval_seconds)
    monitor.start()  # its first pass recovers whatever a previous server left behind
    print(f"Poky {settings.backend} control plane on http://{host}:{port}  (POKY_HOME={settings.home})",
          flush=True)
    try:
        # Uploads stream through this server: waitress's own 1 GiB body cap must not cut them off.
        waitress.serve(app, host=host, port=port, threads=threads, ident="poky",
                       max_request_body_size=MAX_OBJECT_BYTES, _quiet=True)
    except KeyboardInterrupt:
        print("Poky control plane stopped; running jobs go on and are picked up at the next start.", flush=True)
    finally:
        monitor.stop()
        lock.close()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
