"""The container contract: what a job's container is given (environment, spec) — both sides of it.

The control plane builds the environment with ``container_env``; the runner reads it back with
``read_spec``. Kept free of heavy imports: the runner imports it at every container start.
"""

from __future__ import annotations

import json

TYPE_CHECKING = False  # typing.TYPE_CHECKING would import typing at every container start
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

# ECS limits the whole of a RunTask's overrides to 8,192 characters. Leave room for the command,
# the other variables and the JSON framing; larger specs travel as an object instead.
INLINE_SPEC_LIMIT = 6144

ENV_JOB_ID = "POKY_JOB_ID"
ENV_ATTEMPT = "POKY_ATTEMPT"
ENV_TASK = "POKY_TASK"
ENV_SPEC = "POKY_SPEC"
ENV_SPEC_URI = "POKY_SPEC_URI"


def job_spec(job_id: str, attempt: int, task: str, inputs: list[str], output: str,
             params: dict[str, Any]) -> dict[str, Any]:
    return {"job_id": job_id, "attempt": attempt, "task": task, "inputs": inputs,
            "output": output, "params": params}


def spec_object_key(job_id: str, attempt: int) -> str:
    return f"_poky/specs/{job_id}/attempt-{attempt}.json"


def container_env(spec: dict[str, Any], store_spec: Callable[[bytes], str]) -> dict[str, str]:
    """The contract's variables. ``store_spec`` saves an oversized spec and returns its URI."""
    text = json.dumps(spec, separators=(",", ":"))
    env = {ENV_JOB_ID: spec["job_id"], ENV_ATTEMPT: str(spec["attempt"]), ENV_TASK: spec["task"]}
    if len(text) <= INLINE_SPEC_LIMIT:
        env[ENV_SPEC] = text
    else:
        env[ENV_SPEC_URI] = store_spec(text.encode())
    return env


class ContractError(ValueError):
    """The container was started without a usable spec."""


def read_spec(environ: Mapping[str, str], fetch: Callable[[str], bytes]) -> dict[str, Any]:
    """The job spec from POKY_SPEC, or from the object POKY_SPEC_URI names (read with ``fetch``)."""
    if environ.get(ENV_SPEC):
        raw = environ[ENV_SPEC]
    elif environ.get(ENV_SPEC_URI):
        raw = fetch(environ[ENV_SPEC_URI]).decode()
    else:
        raise ContractError(f"neither {ENV_SPEC} nor {ENV_SPEC_URI} is set")
    try:
        spec = json.loads(raw)
    except ValueError as exc:
        raise ContractError(f"the job spec is not valid JSON: {exc}") from None
    missing = {"job_id", "attempt", "task", "inputs", "output", "params"} - set(spec)
    if missing:
        raise ContractError(f"the job spec lacks {', '.join(sorted(missing))}")
    for name, key in ((ENV_JOB_ID, "job_id"), (ENV_ATTEMPT, "attempt"), (ENV_TASK, "task")):
        if environ.get(name) and environ[name] != str(spec[key]):
            raise ContractError(f"{name}={environ[name]} disagrees with the spec ({spec[key]})")
    return spec
