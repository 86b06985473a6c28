"""Where the container reads and writes: chosen by POKY_BACKEND, like the control plane."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from poky_app.contract import ContractError
from poky_app.local import layout
from poky_app.local.fs_storage import FileStorage
from poky_app.local.sqlite_reporter import SqliteReporter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from poky_app.ports import Storage

    Reporter = SqliteReporter  # or DynamoReporter: the same three methods


def connect(environ: Mapping[str, str]) -> tuple[Storage, Reporter]:
    """The storage the job's objects live in, and where its progress is reported."""
    backend = environ.get("POKY_BACKEND", "local")
    if backend == "aws":
        return _connect_aws(environ)
    if backend != "local":
        raise ContractError(f"POKY_BACKEND={backend!r} is not supported by this runner")
    home = environ.get("POKY_HOME")
    if not home:
        raise ContractError("POKY_HOME is not set (the local launcher sets it)")
    db = layout.db_path(Path(home))
    if not db.is_file():
        raise ContractError(f"no job store at {db}")
    return FileStorage(layout.buckets_dir(Path(home))), SqliteReporter(db)


def _connect_aws(environ: Mapping[str, str]) -> tuple[Storage, Reporter]:
    from poky_app.aws.clients import AwsClients
    from poky_app.aws.dynamodb_store import DynamoReporter
    from poky_app.aws.s3_storage import S3Storage

    table = environ.get("POKY_TABLE")
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    if not table or not region:
        raise ContractError("POKY_TABLE and AWS_REGION must be set (the ECS launcher sets them)")
    clients = AwsClients(region)
    return S3Storage(clients), DynamoReporter(clients, table)
