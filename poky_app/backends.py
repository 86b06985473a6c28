"""Assembles the service from the adapters POKY_BACKEND selects."""

from __future__ import annotations

from poky_app.catalog import load_catalog
from poky_app.local.fs_storage import FileStorage
from poky_app.local.process_launcher import ProcessLauncher
from poky_app.local.sqlite_store import SqliteJobStore
from poky_app.service import JobService
from poky_app.settings import PROJECT_ROOT, Settings


def build_service(settings: Settings) -> JobService:
    catalog = load_catalog(settings)
    settings.home.mkdir(parents=True, exist_ok=True)
    storage = FileStorage(settings.buckets_dir)
    for bucket in {settings.input_bucket, settings.output_bucket}:
        storage.create_bucket(bucket)
    store = SqliteJobStore(settings.db_path)
    launcher = ProcessLauncher(settings.logs_dir, workdir=PROJECT_ROOT)
    # The local runner reports to the same SQLite file and reads the same bucket directory.
    env = {"POKY_BACKEND": "local", "POKY_HOME": str(settings.home)}
    return JobService(settings, catalog, store, storage, launcher, container_env_extra=env)
