"""Validation of POST /jobs bodies against the catalog (pure: no storage)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from poky_app.catalog import load_catalog
from poky_app.errors import ConfigError, NotFound, ValidationError
from poky_app.settings import Settings, load_settings
from poky_app.submission import parse_job_request


@pytest.fixture
def catalog(tmp_path: Path):  # type: ignore[no-untyped-def]
    return load_catalog(load_settings({"POKY_HOME": str(tmp_path)}))


def locations(body: object, catalog) -> list[str]:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as caught:
        parse_job_request(body, catalog)
    return [e.location for e in caught.value.errors]


def test_valid_request_fills_param_defaults(catalog) -> None:  # type: ignore[no-untyped-def]
    request = parse_job_request({"task": "compress", "inputs": ["s3://poky-input/a.txt"]}, catalog)
    assert request.params == {"level": 6}
    assert request.output is None and request.priority == 0


def test_every_bad_field_is_located(catalog) -> None:  # type: ignore[no-untyped-def]
    body = {"task": "compress", "inputs": ["s3://poky-input/../x", "s3://elsewhere/a"],
            "output": "s3://poky-input/out/", "params": {"level": 0, "extra": 1},
            "callback_url": "ftp://x", "priority": "high", "colour": "blue"}
    assert locations(body, catalog) == ["/colour", "/inputs/0", "/inputs/1", "/output", "/params",
                                        "/params/level", "/callback_url", "/priority"]


def test_unknown_task_is_not_found(catalog) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound, match="compress"):
        parse_job_request({"task": "nope"}, catalog)


def test_input_counts_follow_the_task(catalog) -> None:  # type: ignore[no-untyped-def]
    assert locations({"task": "copy_rename", "inputs": []}, catalog) == ["/inputs"]
    assert locations({"task": "sleep", "inputs": ["s3://poky-input/a"]}, catalog)[-1] == "/inputs"


def test_output_without_slash_means_a_prefix(catalog) -> None:  # type: ignore[no-untyped-def]
    request = parse_job_request({"task": "copy_rename", "inputs": ["s3://poky-input/a"],
                                 "output": "s3://poky-output/results"}, catalog)
    assert str(request.output) == "s3://poky-output/results/"


@pytest.mark.parametrize("body", [[], "x", None, 3])
def test_body_must_be_an_object(body: object, catalog) -> None:  # type: ignore[no-untyped-def]
    assert locations(body, catalog) == ["/"]


def test_catalog_errors_name_the_file_and_task(tmp_path: Path) -> None:
    bad = tmp_path / "tasks.json"
    bad.write_text(json.dumps({"tasks": [{"name": "x", "params_schema": {"type": "nonsense"}}]}))
    with pytest.raises(ConfigError, match=r"POKY_TASKS_FILE=.*tasks\[0\].*JSON Schema"):
        load_catalog(Settings(home=tmp_path, tasks_file=bad))
    bad.write_text(json.dumps({"tasks": [{"description": "no name"}]}))
    with pytest.raises(ConfigError, match="missing field 'name'"):
        load_catalog(Settings(home=tmp_path, tasks_file=bad))
