"""Both halves of the container contract agree, and large specs leave the environment."""

from __future__ import annotations

import json

import pytest

from poky_app.contract import INLINE_SPEC_LIMIT, ContractError, container_env, job_spec, read_spec


def test_small_spec_is_inline() -> None:
    spec = job_spec("J1", 2, "sleep", [], "s3://poky-output/J1/", {"seconds": 1})
    env = container_env(spec, store_spec=lambda data: pytest.fail("must not store"))
    assert env["POKY_JOB_ID"] == "J1" and env["POKY_ATTEMPT"] == "2" and env["POKY_TASK"] == "sleep"
    assert read_spec(env, fetch=lambda uri: b"") == spec


def test_large_spec_is_stored_and_fetched() -> None:
    spec = job_spec("J1", 1, "copy_rename", [f"s3://poky-input/{i:05}.csv" for i in range(400)],
                    "s3://poky-output/J1/", {})
    assert len(json.dumps(spec)) > INLINE_SPEC_LIMIT
    stored: dict[str, bytes] = {}
    env = container_env(spec, store_spec=lambda data: stored.setdefault("s3://poky-output/spec.json", data)
                        and "s3://poky-output/spec.json")
    assert "POKY_SPEC" not in env and env["POKY_SPEC_URI"] == "s3://poky-output/spec.json"
    assert sum(len(k) + len(v) for k, v in env.items()) < 8192
    assert read_spec(env, fetch=lambda uri: stored[uri]) == spec


@pytest.mark.parametrize("env", [{}, {"POKY_SPEC": "{not json"}, {"POKY_SPEC": '{"job_id": "x"}'}])
def test_unusable_specs_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(ContractError):
        read_spec(env, fetch=lambda uri: b"")
