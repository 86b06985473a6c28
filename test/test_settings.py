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
