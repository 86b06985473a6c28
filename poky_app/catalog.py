"""The task catalog: which kinds of job exist, what parameters they take and how they run.

Read from config/tasks.json. ``${POKY_INPUT_BUCKET}`` and ``${POKY_OUTPUT_BUCKET}`` in bucket
fields are replaced by the configured names, so one catalog serves every deployment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from string import Template
from typing import Any

from poky_app.errors import ConfigError, FieldError
from poky_app.retry_policy import RetryPolicy
from poky_app.settings import Settings


@dataclass(frozen=True)
class TaskType:
    name: str
    description: str
    params_schema: dict[str, Any]
    min_inputs: int
    max_inputs: int
    input_buckets: tuple[str, ...]
    output_bucket: str
    timeout_seconds: float
    cpu: int
    memory: int
    command: tuple[str, ...]
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    start_deadline_seconds: float = 600.0
    max_running: int | None = None  # at most this many of this type at once (None: only the global cap)

    def to_public(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "params_schema": self.params_schema,
            "inputs": {"min": self.min_inputs, "max": self.max_inputs, "buckets": list(self.input_buckets)},
            "output_bucket": self.output_bucket,
            "timeout_seconds": self.timeout_seconds,
            "cpu": self.cpu,
            "memory": self.memory,
            "start_deadline_seconds": self.start_deadline_seconds,
            "max_running": self.max_running,
            "retry": {"max_attempts": self.retry.max_attempts, "backoff_seconds": self.retry.backoff_seconds,
                      "max_backoff_seconds": self.retry.max_backoff_seconds,
                      "on_exit": [{k: v for k, v in rule.__dict__.items() if v is not None}
                                  for rule in self.retry.on_exit]},
        }

    @cached_property
    def _validator(self) -> Any:
        from jsonschema import Draft202012Validator  # imported on first use: not on the Lambda cold path

        return Draft202012Validator(self.params_schema)

    def check_params(self, params: dict[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
        """Validate ``params`` against the schema; return them with top-level defaults filled in."""
        errors = [
            FieldError("/params" + "".join(f"/{p}" for p in err.absolute_path), err.message)
            for err in sorted(self._validator.iter_errors(params), key=lambda e: list(map(str, e.absolute_path)))
        ]
        filled = dict(params)
        for name, prop in self.params_schema.get("properties", {}).items():
            if name not in filled and isinstance(prop, dict) and "default" in prop:
                filled[name] = prop["default"]
        return filled, errors


class Catalog:
    def __init__(self, tasks: list[TaskType]) -> None:
        self._tasks = {t.name: t for t in tasks}

    def get(self, name: str) -> TaskType | None:
        return self._tasks.get(name)

    @property
    def names(self) -> list[str]:
        return sorted(self._tasks)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._tasks[name] for name in self.names)


def load_catalog(settings: Settings, path: Path | None = None) -> Catalog:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    path = path or settings.tasks_file
    where = f"POKY_TASKS_FILE={path}"
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{where}: cannot read the task catalog: {exc}") from None
    buckets = {"POKY_INPUT_BUCKET": settings.input_bucket, "POKY_OUTPUT_BUCKET": settings.output_bucket}

    def expand(text: str) -> str:
        return Template(text).safe_substitute(buckets)

    tasks = []
    for index, entry in enumerate(document.get("tasks", [])):
        label = f"{where}: tasks[{index}]"
        try:
            name = entry["name"]
            schema = entry.get("params_schema", {"type": "object"})
            Draft202012Validator.check_schema(schema)
            inputs = entry.get("inputs", {})
            tasks.append(TaskType(
                name=name,
                description=entry.get("description", ""),
                params_schema=schema,
                min_inputs=int(inputs.get("min", 0)),
                max_inputs=int(inputs.get("max", 100)),
                input_buckets=tuple(expand(b) for b in inputs.get("buckets", ["${POKY_INPUT_BUCKET}"])),
                output_bucket=expand(entry.get("output_bucket", "${POKY_OUTPUT_BUCKET}")),
                timeout_seconds=float(entry.get("timeout_seconds", 3600)),
                cpu=int(entry.get("cpu", 256)),
                memory=int(entry.get("memory", 512)),
                command=tuple(entry.get("command", ["python", "-m", "file_processing.runner"])),
                retry=RetryPolicy.from_dict(entry.get("retry", {})),
                start_deadline_seconds=float(entry.get("start_deadline_seconds", 600)),
                max_running=int(entry["max_running"]) if entry.get("max_running") is not None else None,
            ))
        except KeyError as exc:
            raise ConfigError(f"{label}: missing field {exc}") from None
        except SchemaError as exc:
            raise ConfigError(f"{label}: params_schema is not a valid JSON Schema: {exc.message}") from None
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{label}: {exc}") from None
    if not tasks:
        raise ConfigError(f"{where}: the catalog defines no tasks")
    return Catalog(tasks)
