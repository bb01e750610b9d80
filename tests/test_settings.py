"""Settings fail fast, name the bad setting, and never echo a secret."""

import pytest

from bot.settings import ESIGN_HOSTS, ConfigError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]
    for name in [
        "ESIGN_APP_ID", "ESIGN_APP_SECRET", "ESIGN_ENV", "ESIGN_BASE_URL", "ESIGN_AUTH_MODE",
        "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_API_URL", "PORT",
    ]:  # fmt: skip
        monkeypatch.delenv(name, raising=False)


def test_defaults_run_on_simulator_and_sandbox() -> None:
    settings = load_settings()
    assert not settings.esign_configured
    assert not settings.slack_configured
    assert settings.esign_url == ESIGN_HOSTS["sandbox"]


def test_env_chooses_documented_host_and_base_url_overrides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ESIGN_ENV", "production")
    assert load_settings().esign_url == "https://openapi.esign.cn"
    monkeypatch.setenv("ESIGN_BASE_URL", "http://127.0.0.1:9999/")
    assert load_settings().esign_url == "http://127.0.0.1:9999"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"ESIGN_ENV": "prod"}, "ESIGN_ENV"),
        ({"ESIGN_APP_SECRET": "s3cr3t-value"}, "ESIGN_APP_ID"),
        ({"ESIGN_APP_ID": "7438000000000001"}, "ESIGN_APP_SECRET"),
        ({"ESIGN_AUTH_MODE": "oauth"}, "ESIGN_AUTH_MODE"),
        ({"ESIGN_READ_TIMEOUT": "-1"}, "ESIGN_READ_TIMEOUT"),
        ({"ESIGN_BASE_URL": "esign.example/path?x"}, "ESIGN_BASE_URL"),
        ({"SLACK_BOT_TOKEN": "xoxb-fake"}, "SLACK_SIGNING_SECRET"),
        ({"PORT": "http"}, "PORT"),
        ({"CACHE_TTL_SECONDS": "forever"}, "CACHE_TTL_SECONDS"),
    ],
)
def test_bad_settings_name_themselves(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert named in str(info.value)
    assert "s3cr3t-value" not in str(info.value)


def test_secrets_are_hidden_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ESIGN_APP_ID", "7438000000000001")
    monkeypatch.setenv("ESIGN_APP_SECRET", "s3cr3t-value")
    settings = load_settings()
    assert settings.esign_configured
    assert "s3cr3t-value" not in repr(settings)
    assert settings.secret_values() == ["s3cr3t-value"]


@pytest.mark.parametrize(
    ("app_id", "env", "doubt"),
    [
        ("5111000000000001", "sandbox", True),
        ("7438000000000001", "production", True),
        ("7438000000000001", "sandbox", False),
        ("5111000000000001", "production", False),
    ],
)
def test_app_id_of_the_other_environment_is_doubted(
    monkeypatch: pytest.MonkeyPatch, app_id: str, env: str, doubt: bool
) -> None:
    monkeypatch.setenv("ESIGN_APP_ID", app_id)
    monkeypatch.setenv("ESIGN_APP_SECRET", "s3cr3t-value")
    monkeypatch.setenv("ESIGN_ENV", env)
    message = load_settings().esign_env_doubt()
    assert (message is not None) == doubt
    if message:
        assert "ESIGN_ENV" in message and "s3cr3t-value" not in message
