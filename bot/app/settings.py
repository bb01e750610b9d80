"""Every setting of the bot, read from the environment (and `.env`) and checked at start-up.

Nothing else in the code base reads the environment.
"""

from __future__ import annotations

import os
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.app.logs import LogFormat
from bot.app.redis_settings import (
    check_one_kind,
    check_redis_url,
    sentinel_tls_word,
    url_password_forms,
)
from bot.flows.links import check_templates
from bot.slack.ids import SLACK_ID_PATTERN
from bot.state.shared.connection import RedisTarget, SentinelTls, parse_host_ports

ESIGN_HOSTS: dict[str, str] = {
    "production": "https://openapi.esign.cn",
    "sandbox": "https://smlopenapi.esign.cn",
}
#: How app ids usually start in each environment (an app id belongs to exactly one).
APP_ID_PREFIXES: dict[str, tuple[str, ...]] = {
    "production": ("5111",),
    "sandbox": ("7438", "4438"),
}
SLACK_API_URL = "https://slack.com/api/"

PositiveSeconds = Annotated[float, Field(gt=0, le=600)]


def _comma_separated(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _upper_case(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


def _lower_case(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


#: A list of Slack ids written as `T123,T456` in the environment.
SlackIds = Annotated[
    list[Annotated[str, Field(pattern=f"^{SLACK_ID_PATTERN}$")]],
    NoDecode,
    BeforeValidator(_comma_separated),
]


LinkTemplates = Annotated[
    list[str], NoDecode, BeforeValidator(_comma_separated), AfterValidator(check_templates)
]


class ConfigError(Exception):
    """A setting is missing, malformed or contradicts another; the message names it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    # e签宝
    esign_app_id: str | None = Field(default=None, min_length=1, max_length=64)
    esign_app_secret: SecretStr | None = None
    esign_env: Literal["sandbox", "production"] = "sandbox"
    esign_base_url: str | None = Field(default=None, pattern=r"^https?://[^\s/?#]+/?$")
    esign_auth_mode: Literal["signature", "token"] = "signature"
    esign_connect_timeout: PositiveSeconds = 3.0
    esign_read_timeout: PositiveSeconds = 5.0
    #: Overall budget for one lookup, retries included.
    esign_deadline: PositiveSeconds = 8.0
    esign_max_retries: Annotated[int, Field(ge=0, le=5)] = 2
    #: Calls per second the bot allows itself; e签宝's default quota is 50 QPS per app.
    esign_max_qps: Annotated[float, Field(gt=0, le=1000)] = 40.0
    #: Transient failures in a row after which lookups fail fast for the cooldown.
    esign_breaker_failures: Annotated[int, Field(ge=1, le=100)] = 5
    esign_breaker_cooldown: PositiveSeconds = 15.0
    #: Serve Slack from the built-in simulator on purpose (a trial workspace); without it, a
    #: process serving Slack with no credentials refuses to start.
    esign_simulator: bool = False

    # Slack
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = Field(default=SLACK_API_URL, pattern=r"^https?://\S+/$")
    #: Socket Mode: ping every this long; a link silent for two of them is replaced.
    socket_mode_ping_interval: Annotated[float, Field(ge=0.1, le=60)] = 5.0
    #: Socket Mode worker: serve GET /healthz on this port (unset: no endpoint).
    worker_health_port: Annotated[int, Field(ge=0, le=65535)] | None = None
    #: Longest wait between two checks while Slack is unreachable (the first come sooner).
    slack_recheck_seconds: Annotated[float, Field(gt=0, le=300)] = 30.0
    port: Annotated[int, Field(ge=0, le=65535)] = 3000
    #: Interface the HTTP server listens on; platforms such as Heroku need all interfaces.
    bind_host: str = Field(default="0.0.0.0", pattern=r"^[0-9A-Za-z.:\-\[\]]+$")  # noqa: S104

    # Lookups
    cache_ttl_seconds: Annotated[float, Field(ge=0, le=3600)] = 30.0
    cache_max_flows: Annotated[int, Field(ge=1, le=100_000)] = 2048
    lookup_workers: Annotated[int, Field(ge=1, le=256)] = 32

    # What survives a restart (watches, recent lookups, preferences): SQLite here by default,
    # Redis when REDIS_URL is set.
    state_db_path: str = Field(default="esign-flow-state.sqlite3", min_length=1)

    # Watches: how long one lasts, how many there may be, how soon the first look comes.
    watch_max_hours: Annotated[float, Field(gt=0, le=24 * 30)] = 24.0
    watch_max_per_channel: Annotated[int, Field(ge=1, le=10_000)] = 50
    watch_max_total: Annotated[int, Field(ge=1, le=1_000_000)] = 5_000
    watch_first_poll_seconds: Annotated[float, Field(ge=0.2, le=30)] = 30.0
    #: How long the built-in simulator's moving sample flows take to end (no credentials only).
    simulated_flow_seconds: Annotated[float, Field(ge=1, le=3600)] = 40.0
    max_ids_per_command: Annotated[int, Field(ge=1, le=5)] = 5
    #: Links to flows that unfurl: `https://host/path/{flow_id}`, comma-separated.
    unfurl_url_patterns: LinkTemplates = Field(default_factory=list)

    # Daily digests: how often the scheduler looks for one due; the offset moves only the
    # digest's clock ahead of the machine's (local runs and tests: see a digest without waiting).
    digest_tick_seconds: Annotated[float, Field(ge=0.1, le=60)] = 10.0
    digest_clock_offset_seconds: Annotated[float, Field(ge=-366 * 86400, le=366 * 86400)] = 0.0

    # Who may look flows up; an empty list allows everyone on that dimension.
    allowed_team_ids: SlackIds = Field(default_factory=list)
    allowed_channel_ids: SlackIds = Field(default_factory=list)
    allowed_user_ids: SlackIds = Field(default_factory=list)
    #: Members of these user groups are allowed too (needs the usergroups:read scope).
    allowed_usergroup_ids: SlackIds = Field(default_factory=list)

    # Several processes (web workers, dynos, web and worker) sharing one Redis
    #: `redis://`, `rediss://` (TLS) or `unix://`; a secret, since it carries the password.
    redis_url: SecretStr | None = None
    #: Or Sentinel: `host:port,host:port,…` of the sentinels, and the name they monitor.
    redis_sentinels: str | None = None
    redis_sentinel_master: str | None = Field(default=None, pattern=r"^[^\s]+$")
    #: The data nodes' password with REDIS_SENTINELS (REDIS_URL carries its own).
    redis_password: SecretStr | None = None
    redis_sentinel_password: SecretStr | None = None
    #: `off`, `on` (certificates checked) or `no-verify`: TLS to the data nodes and sentinels.
    redis_sentinel_tls: Annotated[SentinelTls, BeforeValidator(sentinel_tls_word)] = "off"
    #: A CA file to check their certificates against (else the system's CAs).
    redis_sentinel_tls_ca_certs: str | None = None
    #: Or Cluster: `redis://[:password@]host:port` (`rediss://` for TLS) of any node.
    redis_cluster_url: SecretStr | None = None
    #: How often a process that lost Redis tries it again (the bot promises: within 30 s).
    redis_recheck_seconds: Annotated[float, Field(gt=0, le=30)] = 5.0
    #: Web workers per web process (Heroku sets it per dyno size); needs REDIS_URL above 1.
    web_concurrency: Annotated[int, Field(ge=1, le=64)] = 1

    # Metrics (GET /metrics, Prometheus's text format)
    #: False (METRICS=0): nothing counted and no /metrics, for an A/B of what counting costs.
    metrics: bool = True
    #: When set, /metrics wants `Authorization: Bearer <token>`; a secret like the others.
    metrics_token: SecretStr | None = None
    #: Socket Mode worker: serve GET /metrics on this port (unset: no endpoint).
    metrics_port: Annotated[int, Field(ge=0, le=65535)] | None = None

    log_level: Annotated[
        Literal["DEBUG", "INFO", "WARNING", "ERROR"], BeforeValidator(_upper_case)
    ] = "INFO"
    #: `human` (time level logger message key=value…) or `json` (one object per line).
    log_format: Annotated[LogFormat, BeforeValidator(_lower_case)] = "human"

    @field_validator("redis_url", "redis_cluster_url")
    @classmethod
    def _redis_url_has_a_known_scheme(
        cls, value: SecretStr | None, info: ValidationInfo
    ) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        check_redis_url(value.get_secret_value(), cluster=info.field_name == "redis_cluster_url")
        return value

    @field_validator("redis_sentinels")
    @classmethod
    def _sentinels_are_host_port_pairs(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parse_host_ports(value)
        return value

    @field_validator("redis_sentinel_tls_ca_certs")
    @classmethod
    def _ca_file_is_readable(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not os.access(value, os.R_OK):
            raise ValueError("names a file that cannot be read")
        return value

    @field_validator(
        "redis_sentinel_master",
        "redis_password",
        "redis_sentinel_password",
        "redis_cluster_url",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _one_kind_of_redis(self) -> Self:
        check_one_kind(
            url=self.redis_url is not None,
            sentinels=self.redis_sentinels is not None,
            cluster=self.redis_cluster_url is not None,
            master=self.redis_sentinel_master is not None,
            sentinel_tls=self.redis_sentinel_tls != "off"
            or self.redis_sentinel_tls_ca_certs is not None,
        )
        return self

    @field_validator("slack_api_url", "esign_base_url")
    @classmethod
    def _url_parses(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 (parsed lazily: a bad port raises here)
        except ValueError as exc:
            raise ValueError(f"is not a URL ({exc})") from None
        if not parts.hostname:
            raise ValueError("is not a URL (no host)")
        return value

    @model_validator(mode="after")
    def _credentials_come_in_pairs(self) -> Self:
        has_id = bool(self.esign_app_id)
        has_secret = bool(self.esign_app_secret and self.esign_app_secret.get_secret_value())
        if has_secret and not has_id:
            raise ValueError("ESIGN_APP_SECRET is set but ESIGN_APP_ID is not: set both or neither")
        if has_id and not has_secret:
            raise ValueError("ESIGN_APP_ID is set but ESIGN_APP_SECRET is not: set both or neither")
        if self.esign_simulator and has_id:
            raise ValueError("ESIGN_SIMULATOR=1 contradicts ESIGN_APP_ID: unset one or the other")
        has_token = bool(self.slack_bot_token)
        has_signing = bool(self.slack_signing_secret)
        if has_token != has_signing and not self.slack_app_token:
            raise ValueError(
                "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET go together in HTTP mode: set both"
            )
        if self.slack_app_token and not has_token:
            raise ValueError("SLACK_APP_TOKEN (Socket Mode) also needs SLACK_BOT_TOKEN")
        return self

    @property
    def esign_configured(self) -> bool:
        """True when real e签宝 credentials are set; otherwise the bot runs on the simulator."""
        return bool(self.esign_app_id and self.esign_app_secret)

    def esign_missing(self) -> str | None:
        """Why a process serving Slack must not start on this e签宝 setting; None if it may.

        Real people would otherwise get the simulator's made-up flows, quietly.
        """
        if self.esign_configured or self.esign_simulator:
            return None
        return (
            "ESIGN_APP_ID / ESIGN_APP_SECRET are not set: a bot serving Slack needs the e签宝 "
            "app's credentials (ESIGN_ENV picks sandbox or production). To answer from the "
            "built-in simulator on purpose, set ESIGN_SIMULATOR=1 (every card then says so)."
        )

    @property
    def slack_configured(self) -> bool:
        return bool(self.slack_bot_token)

    @property
    def esign_url(self) -> str:
        return (self.esign_base_url or ESIGN_HOSTS[self.esign_env]).rstrip("/")

    def esign_env_doubt(self) -> str | None:
        """A warning when the app id looks like it belongs to the other environment.

        Only a warning: the prefixes are a convention, and a mismatch shows up for sure as
        e签宝's 401 无效的应用, whose card names the fix.
        """
        if not self.esign_app_id or self.esign_base_url:
            return None
        for env, prefixes in APP_ID_PREFIXES.items():
            if env != self.esign_env and self.esign_app_id.startswith(prefixes):
                return (
                    f"ESIGN_APP_ID looks like a {env} app id but ESIGN_ENV is {self.esign_env}: "
                    "e签宝 will answer 401 无效的应用 if they do not match."
                )
        return None

    @property
    def redis_configured(self) -> bool:
        return self.redis_target is not None

    @property
    def redis_target(self) -> RedisTarget | None:
        """The shared Redis, whichever setting names it (the validators allow only one)."""
        if self.redis_url is not None:
            return RedisTarget.from_url(self.redis_url.get_secret_value())
        if self.redis_sentinels is not None and self.redis_sentinel_master is not None:
            return RedisTarget(
                "sentinel",
                sentinels=parse_host_ports(self.redis_sentinels),
                master=self.redis_sentinel_master,
                password=_secret(self.redis_password),
                sentinel_password=_secret(self.redis_sentinel_password),
                tls=self.redis_sentinel_tls,
                tls_ca_certs=self.redis_sentinel_tls_ca_certs,
            )
        if self.redis_cluster_url is not None:
            return RedisTarget.cluster(self.redis_cluster_url.get_secret_value())
        return None

    def secret_values(self) -> list[str]:
        """Every configured secret, for log redaction."""
        secrets = (
            self.esign_app_secret,
            self.slack_bot_token,
            self.slack_signing_secret,
            self.slack_app_token,
            self.redis_url,
            self.redis_password,
            self.redis_sentinel_password,
            self.redis_cluster_url,
            self.metrics_token,
        )
        values = [s.get_secret_value() for s in secrets if s and s.get_secret_value()]
        return values + self._redis_password_forms()

    def _redis_password_forms(self) -> list[str]:
        url = self.redis_url or self.redis_cluster_url
        return url_password_forms(url.get_secret_value()) if url is not None else []


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


class _LogFormatOnly(BaseSettings):
    model_config = Settings.model_config
    log_format: Annotated[LogFormat, BeforeValidator(_lower_case)] = "human"


def log_format_when_refused() -> LogFormat:
    """LOG_FORMAT alone, once the settings as a whole were refused: the lines naming the bad
    settings then come in the format asked for (`human` when LOG_FORMAT is bad too)."""
    try:
        return _LogFormatOnly().log_format
    except (ValidationError, UnicodeDecodeError, OSError):
        return "human"


def load_settings(**overrides: object) -> Settings:
    """Read and check the settings; a problem becomes a ConfigError naming each bad setting.

    The offending values are left out of the message on purpose: one of them may be a secret.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except UnicodeDecodeError as exc:
        raise ConfigError(f".env: is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f".env: cannot be read ({exc.strerror or exc})") from None
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_input=False, include_url=False):
            name = "_".join(str(part) for part in error["loc"]).upper()
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"Invalid setting {name}: {message}" if name else message)
        # One line per bad setting: the first lines of a deploy's log are what people read.
        raise ConfigError("\n".join(problems)) from None
