"""Where the container reads and writes: chosen by POKY_BACKEND, like the control plane."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from poky_app.contract import ContractError
from poky_app.local.fs_storage import FileStorage
from poky_app.local.sqlite_store import SqliteJobStore
from poky_app.ports import JobStore, Storage
from poky_app.settings import Settings


def connect(environ: Mapping[str, str]) -> tuple[Storage, JobStore]:
    """The storage the job's objects live in, and the store its progress is reported to."""
    backend = environ.get("POKY_BACKEND", "local")
    if backend != "local":
        raise ContractError(f"POKY_BACKEND={backend!r} is not supported by this runner")
    home = environ.get("POKY_HOME")
    if not home:
        raise ContractError("POKY_HOME is not set (the local launcher sets it)")
    settings = Settings(home=Path(home))
    if not settings.db_path.is_file():
        raise ContractError(f"no job store at {settings.db_path}")
    return FileStorage(settings.buckets_dir), SqliteJobStore(settings.db_path)
