"""Where things live under POKY_HOME: shared by the control plane and the local runner."""

from __future__ import annotations

from pathlib import Path


def db_path(home: Path) -> Path:
    return home / "jobs.sqlite3"


def buckets_dir(home: Path) -> Path:
    return home / "buckets"


def logs_dir(home: Path) -> Path:
    return home / "logs"
