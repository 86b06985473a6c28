"""Configuration: sane defaults, and every bad setting named at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from poky_app.errors import ConfigError
from poky_app.settings import load_settings


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings({"POKY_HOME": str(tmp_path)})
    assert settings.backend == "local" and settings.auth == "off"
    assert (settings.input_bucket, settings.output_bucket) == ("poky-input", "poky-output")
    assert settings.home == tmp_path.resolve()


@pytest.mark.parametrize(("name", "value"), [
    ("POKY_BACKEND", "gcp"), ("POKY_INPUT_BUCKET", "Not_A_Bucket"), ("POKY_OUTPUT_BUCKET", "x"),
    ("POKY_CANCEL_GRACE_SECONDS", "soon"), ("POKY_CANCEL_GRACE_SECONDS", "-1"),
    ("POKY_URL_TTL_SECONDS", "0"), ("POKY_TASKS_FILE", "/nonexistent/tasks.json"),
    ("POKY_LOG_LEVEL", "loud"), ("POKY_AUTH", "maybe"),
])
def test_bad_settings_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings({name: value})


def test_dotenv_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("POKY_INPUT_BUCKET=from-dotenv\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("POKY_INPUT_BUCKET", raising=False)
    assert load_settings().input_bucket == "from-dotenv"
    monkeypatch.delenv("POKY_INPUT_BUCKET", raising=False)  # load_dotenv wrote it to os.environ


AWS_ENV = {"POKY_BACKEND": "aws", "POKY_AUTH": "off", "AWS_REGION": "eu-west-1", "POKY_CLUSTER": "poky",
           "POKY_TASK_DEFINITION": "poky-runner", "POKY_SUBNETS": "subnet-1, subnet-2",
           "POKY_SECURITY_GROUPS": "sg-1", "POKY_TABLE": "poky-jobs", "POKY_LOG_GROUP": "/poky/jobs"}


def test_aws_settings(tmp_path: Path) -> None:
    settings = load_settings({**AWS_ENV, "POKY_HOME": str(tmp_path), "POKY_CAPACITY": "fargate_spot_first"})
    assert settings.aws is not None
    assert settings.aws.subnets == ("subnet-1", "subnet-2") and settings.aws.capacity == "FARGATE_SPOT_FIRST"
    assert settings.aws.container_name == "runner" and settings.aws.job_ttl_days == 30


@pytest.mark.parametrize("name", ["AWS_REGION", "POKY_CLUSTER", "POKY_TASK_DEFINITION", "POKY_SUBNETS",
                                  "POKY_SECURITY_GROUPS", "POKY_TABLE", "POKY_LOG_GROUP"])
def test_aws_settings_name_what_is_missing(name: str) -> None:
    env = {k: v for k, v in AWS_ENV.items() if k != name}
    with pytest.raises(ConfigError, match=name):
        load_settings(env)


def test_aws_requires_a_written_choice_about_auth() -> None:
    with pytest.raises(ConfigError, match="POKY_AUTH"):
        load_settings({k: v for k, v in AWS_ENV.items() if k != "POKY_AUTH"})
