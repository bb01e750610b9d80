"""Settings fail fast, name the bad setting, and never echo a secret."""

from pathlib import Path

import pytest

from bot.app.settings import ESIGN_HOSTS, ConfigError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]
    for name in [
        "ESIGN_APP_ID", "ESIGN_APP_SECRET", "ESIGN_ENV", "ESIGN_BASE_URL", "ESIGN_AUTH_MODE",
        "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_API_URL", "PORT",
        "REDIS_URL", "LOG_LEVEL", "WEB_CONCURRENCY", "SLACK_RECHECK_SECONDS",
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


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SLACK_API_URL", "http://[::1/"),
        ("SLACK_API_URL", "https://slack.com:99999/api/"),
        ("SLACK_API_URL", "http:///api/"),
        ("ESIGN_BASE_URL", "http://[::1"),
        ("ESIGN_BASE_URL", "http://esign.example:0x50"),
        ("REDIS_URL", "redis://:s3cr3t-value@127.0.0.1:6379/0?socket_timeout=soon"),
        ("REDIS_URL", "rediss://:s3cr3t-value@127.0.0.1:6380/0?ssl_ca_certs=/no/such/ca.pem"),
        ("SLACK_RECHECK_SECONDS", "0"),
    ],
)
def test_values_that_would_fail_later_fail_at_start_in_one_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(info.value).startswith(f"Invalid setting {name}: ")
    assert "\n" not in str(info.value)
    assert "s3cr3t-value" not in str(info.value)


def test_each_bad_setting_gets_its_own_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "http")
    monkeypatch.setenv("WEB_CONCURRENCY", "0")
    with pytest.raises(ConfigError) as info:
        load_settings()
    lines = str(info.value).splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "Invalid setting PORT",
        "Invalid setting WEB_CONCURRENCY",
    ]


def test_a_readable_tls_file_and_a_lower_case_log_level_are_fine(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("REDIS_URL", f"rediss://127.0.0.1:6380/0?ssl_ca_certs={ca}")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    settings = load_settings()
    assert settings.redis_configured
    assert settings.log_level == "DEBUG"


def test_a_dotenv_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"PORT=\xff\n")  # the fixture made tmp_path the cwd
    with pytest.raises(ConfigError, match=r"^\.env: is not UTF-8 text"):
        load_settings()
