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
        # API keys (poky keys create) arrive with the AWS deployment work; refuse rather than
        # pretend to protect anything.
        raise ConfigError("POKY_AUTH=required is not supported yet; set POKY_AUTH=off")
    if backend == "aws":
        raise ConfigError("POKY_BACKEND=aws is not available in this version; use POKY_BACKEND=local")
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
    )
