"""The Lambda entry's routing, in-process: each event kind by its shape; strays never raise."""

from __future__ import annotations

import sys

import pytest

from poky_app import lambda_entry
from test.test_lambda_package import http_v1, http_v2, scheduled, task_stopped


@pytest.mark.parametrize(("event", "kind"), [
    (http_v2("GET", "/healthz"), lambda_entry.HTTP),
    (http_v1("GET", "/healthz"), lambda_entry.HTTP),
    (scheduled(), lambda_entry.SCHEDULE),
    (task_stopped("J", "arn:task"), lambda_entry.ECS_EVENT),
    ({"Records": [{"eventSource": "aws:s3"}]}, lambda_entry.UNKNOWN),
    ({"detail-type": "Scheduled Event", "source": "somebody.else"}, lambda_entry.UNKNOWN),
    ("not even a dict", lambda_entry.UNKNOWN),
    (None, lambda_entry.UNKNOWN),
])
def test_event_kinds(event: object, kind: str) -> None:
    assert lambda_entry.event_kind(event) == kind


def test_stray_events_are_ignored_without_building_anything(caplog: pytest.LogCaptureFixture) -> None:
    assert lambda_entry.handler({"Records": []}, None) == {"ignored": True}
    assert lambda_entry.handler([1, 2], None) == {"ignored": True}
    assert "ignoring an event" in caplog.text
    assert not lambda_entry._state


def test_importing_the_entry_loads_nothing_heavy() -> None:
    import subprocess

    code = ("import sys; import poky_app.lambda_entry; heavy = {'flask', 'boto3', 'botocore', 'jsonschema', "
            "'werkzeug', 'sqlite3'} & set(sys.modules); print(sorted(heavy))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
