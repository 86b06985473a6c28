"""Where the container reads and writes: chosen by POKY_BACKEND, like the control plane."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from poky_app.contract import ContractError
from poky_app.local import layout
from poky_app.local.fs_storage import FileStorage
from poky_app.local.sqlite_reporter import SqliteReporter


def connect(environ: Mapping[str, str]) -> tuple[FileStorage, SqliteReporter]:
    """The storage the job's objects live in, and where its progress is reported."""
    backend = environ.get("POKY_BACKEND", "local")
    if backend != "local":
        raise ContractError(f"POKY_BACKEND={backend!r} is not supported by this runner")
    home = environ.get("POKY_HOME")
    if not home:
        raise ContractError("POKY_HOME is not set (the local launcher sets it)")
    db = layout.db_path(Path(home))
    if not db.is_file():
        raise ContractError(f"no job store at {db}")
    return FileStorage(layout.buckets_dir(Path(home))), SqliteReporter(db)
