"""Assembles the service from the adapters POKY_BACKEND selects."""

from __future__ import annotations

from poky_app.catalog import load_catalog
from poky_app.service import JobService
from poky_app.settings import PROJECT_ROOT, Settings


def build_service(settings: Settings) -> JobService:
    if settings.aws is not None:
        return _aws_service(settings)
    return _local_service(settings)


def _local_service(settings: Settings) -> JobService:
    from poky_app.local.fs_storage import FileStorage
    from poky_app.local.process_launcher import ProcessLauncher
    from poky_app.local.sqlite_store import SqliteJobStore

    settings.home.mkdir(parents=True, exist_ok=True)
    storage = FileStorage(settings.buckets_dir)
    for bucket in {settings.input_bucket, settings.output_bucket}:
        storage.create_bucket(bucket)
    store = SqliteJobStore(settings.db_path)
    launcher = ProcessLauncher(settings.logs_dir, workdir=PROJECT_ROOT)
    # The local runner reports to the same SQLite file and reads the same bucket directory.
    env = {"POKY_BACKEND": "local", "POKY_HOME": str(settings.home)}
    return JobService(settings, lambda: load_catalog(settings), store, storage, launcher, container_env_extra=env)


def _aws_service(settings: Settings) -> JobService:
    from poky_app.aws.clients import AwsClients
    from poky_app.aws.dynamodb_store import DynamoJobStore
    from poky_app.aws.ecs_launcher import EcsLauncher
    from poky_app.aws.ecs_requests import EcsTarget
    from poky_app.aws.s3_storage import S3Storage

    aws = settings.aws
    assert aws is not None
    clients = AwsClients(aws.region)  # no client is created, and nothing is called, until first use
    target = EcsTarget(cluster=aws.cluster, task_definition=aws.task_definition, container_name=aws.container_name,
                       subnets=aws.subnets, security_groups=aws.security_groups,
                       assign_public_ip=aws.assign_public_ip, capacity=aws.capacity)
    launcher = EcsLauncher(clients, target, aws.log_group, aws.log_stream_prefix)
    # The container reports progress straight to the table, and reads/writes S3 with its task role.
    env = {"POKY_BACKEND": "aws", "POKY_TABLE": aws.table, "AWS_REGION": aws.region}
    return JobService(settings, lambda: load_catalog(settings), DynamoJobStore(clients, aws.table, aws.job_ttl_days),
                      S3Storage(clients), launcher, container_env_extra=env)
