"""All configuration, read once from the environment (and a .env file), validated at start-up.

A bad or missing setting raises ConfigError naming the variable, so the server never starts
half-configured. Layers: defaults -> .env -> process environment -> explicit overrides (tests).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from poky_app.errors import ConfigError
from poky_app.local import layout
from poky_app.uris import UriError, validate_bucket

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TASKS_FILE = PROJECT_ROOT / "config" / "tasks.json"


@dataclass(frozen=True)
class AwsSettings:
    """What POKY_BACKEND=aws needs; `poky bootstrap` creates the resources and writes these."""

    region: str
    cluster: str
    task_definition: str
    container_name: str
    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]
    table: str
    log_group: str
    log_stream_prefix: str = "poky"
    assign_public_ip: bool = True
    capacity: str = "FARGATE"
    job_ttl_days: float = 30.0


@dataclass(frozen=True)
class Settings:
    backend: str = "local"
    home: Path = Path(".poky")
    input_bucket: str = "poky-input"
    output_bucket: str = "poky-output"
    tasks_file: Path = DEFAULT_TASKS_FILE
    auth: str = "off"
    cancel_grace_seconds: float = 10.0
    url_ttl_seconds: int = 900
    monitor_interval_seconds: float = 0.5
    secret_key: str | None = None
    log_level: str = "INFO"
    max_running: int = 50
    launch_rate: float = 20.0
    launch_burst: float = 100.0
    launch_retry_base_seconds: float = 1.0
    launch_retry_max_seconds: float = 60.0
    aws: AwsSettings | None = None

    @property
    def db_path(self) -> Path:
        return layout.db_path(self.home)

    @property
    def buckets_dir(self) -> Path:
        return layout.buckets_dir(self.home)

    @property
    def logs_dir(self) -> Path:
        return layout.logs_dir(self.home)


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, "").strip().lower() or default
    if value not in choices:
        raise ConfigError(f"{name}={value!r} is not one of {', '.join(choices)}")
    return value


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={raw} must lie between {low:g} and {high:g}")
    return value


def _bucket(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    try:
        return validate_bucket(value)
    except UriError as exc:
        raise ConfigError(f"{name}: {exc}") from None


def _existing_file(env: Mapping[str, str], name: str, default: Path) -> Path:
    path = Path(env.get(name, "").strip() or default).expanduser()
    if not path.is_file():
        raise ConfigError(f"{name}={path} does not exist or is not a file")
    return path.resolve()


def load_settings(environ: Mapping[str, str] | None = None, *, dotenv: bool = True) -> Settings:
    """Build Settings from ``environ`` (default: os.environ, after loading ./.env if present)."""
    if environ is None:
        if dotenv:
            from dotenv import load_dotenv

            load_dotenv(Path.cwd() / ".env", override=False)
        environ = os.environ
    env = environ
    backend = _choice(env, "POKY_BACKEND", "local", ("local", "aws"))
    auth_default = "required" if backend == "aws" else "off"
    auth = _choice(env, "POKY_AUTH", auth_default, ("required", "off"))
    if auth == "required":
        # API keys (poky keys create) are not built yet. Refuse rather than pretend to protect
        # anything: running an unauthenticated API must be a choice someone wrote down.
        raise ConfigError("POKY_AUTH=required is not supported yet (it is the default with POKY_BACKEND=aws); "
                          "set POKY_AUTH=off to run without API keys")
    return Settings(
        backend=backend,
        home=Path(env.get("POKY_HOME", "").strip() or ".poky").expanduser().resolve(),
        input_bucket=_bucket(env, "POKY_INPUT_BUCKET", "poky-input"),
        output_bucket=_bucket(env, "POKY_OUTPUT_BUCKET", "poky-output"),
        tasks_file=_existing_file(env, "POKY_TASKS_FILE", DEFAULT_TASKS_FILE),
        auth=auth,
        cancel_grace_seconds=_number(env, "POKY_CANCEL_GRACE_SECONDS", 10.0, 0.0, 120.0),
        url_ttl_seconds=int(_number(env, "POKY_URL_TTL_SECONDS", 900, 1, 7 * 24 * 3600)),
        monitor_interval_seconds=_number(env, "POKY_MONITOR_INTERVAL_SECONDS", 0.5, 0.01, 60.0),
        secret_key=env.get("POKY_SECRET_KEY", "").strip() or None,
        log_level=_choice(env, "POKY_LOG_LEVEL", "info", ("debug", "info", "warning", "error")).upper(),
        max_running=int(_number(env, "POKY_MAX_RUNNING", 50, 1, 100_000)),
        launch_rate=_number(env, "POKY_LAUNCH_RATE", 20.0, 0.1, 1000.0),
        launch_burst=_number(env, "POKY_LAUNCH_BURST", 100.0, 1.0, 10_000.0),
        launch_retry_base_seconds=_number(env, "POKY_LAUNCH_RETRY_BASE_SECONDS", 1.0, 0.0, 600.0),
        launch_retry_max_seconds=_number(env, "POKY_LAUNCH_RETRY_MAX_SECONDS", 60.0, 0.0, 3600.0),
        aws=_aws(env) if backend == "aws" else None,
    )


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is not set; POKY_BACKEND=aws needs it (`poky bootstrap` writes it to .env)")
    return value


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in _required(env, name).split(",") if part.strip())


def _aws(env: Mapping[str, str]) -> AwsSettings:
    region = env.get("AWS_REGION", "").strip() or env.get("AWS_DEFAULT_REGION", "").strip()
    if not region:
        raise ConfigError("AWS_REGION is not set; POKY_BACKEND=aws needs a region")
    return AwsSettings(
        region=region,
        cluster=_required(env, "POKY_CLUSTER"),
        task_definition=_required(env, "POKY_TASK_DEFINITION"),
        container_name=env.get("POKY_CONTAINER_NAME", "").strip() or "runner",
        subnets=_list(env, "POKY_SUBNETS"),
        security_groups=_list(env, "POKY_SECURITY_GROUPS"),
        table=_required(env, "POKY_TABLE"),
        log_group=_required(env, "POKY_LOG_GROUP"),
        log_stream_prefix=env.get("POKY_LOG_STREAM_PREFIX", "").strip() or "poky",
        assign_public_ip=_choice(env, "POKY_ASSIGN_PUBLIC_IP", "enabled", ("enabled", "disabled")) == "enabled",
        capacity=_choice(env, "POKY_CAPACITY", "fargate", ("fargate", "fargate_spot", "fargate_spot_first")).upper(),
        job_ttl_days=_number(env, "POKY_JOB_TTL_DAYS", 30.0, 0.0, 3650.0),
    )
