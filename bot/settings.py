"""Runtime settings: one cached pydantic-settings object, read from CROSSTRACK_* variables and `.env`."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from storage.secretbox import KEY_SETTING, OLD_KEYS_SETTING, SecretBox

# Values people copy from examples and forget to replace.
_PLACEHOLDERS = {"changeme", "change-me", "xxx", "xxxxxx", "secret", "your-secret", "todo", "placeholder"}


Positive = Annotated[float, Field(gt=0)]


def _is_placeholder(secret: SecretStr | str | None) -> bool:
    value = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    return not value or value.strip().lower() in _PLACEHOLDERS or value.strip().lower().startswith("your")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CROSSTRACK_", env_file=".env", extra="ignore")

    # Out of repr: a PostgreSQL URL may carry a password.
    database_url: str = Field(default="sqlite:///./crosstrack.db", repr=False)
    host: str = "127.0.0.1"
    port: int = 8000
    # The HTTP edge (bot/http_limits.py): bodies above this are refused (413); beyond this many
    # requests in flight new ones get 503; a body not received within this many seconds gets 408.
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    max_concurrent_requests: int = Field(default=100, gt=0)
    body_timeout_seconds: Positive = 10.0
    timezone: str = "Asia/Shanghai"
    locale: Literal["zh", "en"] = "zh"
    # Secrets are SecretStr: repr() and str() of the settings (and tracebacks, logs) never show them.
    api_token: SecretStr | None = None
    # Commands one user may send per minute on one platform; past it they get one "slow down" reply.
    command_rate_limit: int = Field(default=20, ge=1)
    log_format: Literal["text", "json"] = "text"  # json: one JSON object a line, for log shippers

    feishu_app_id: str | None = None
    feishu_app_secret: SecretStr | None = None
    feishu_verification_token: SecretStr | None = None
    feishu_encrypt_key: SecretStr | None = None
    # HTTP mode without an encrypt key trusts a static token in the body (no signature, no time):
    # refused unless this is set, and then warned about at every start.
    feishu_allow_unsigned: bool = False
    feishu_domain: str = "https://open.feishu.cn"
    # Signed Feishu requests older than this are refused as replays.
    feishu_replay_window_seconds: int = 300
    # `http`: events posted to /webhooks/feishu/events; `ws`: lark-oapi's long connection (no public URL).
    feishu_mode: Literal["http", "ws"] = "http"

    dingtalk_app_key: str | None = None
    dingtalk_app_secret: SecretStr | None = None
    dingtalk_robot_code: str | None = None
    # `stream` (default): a connection we open (no public URL, authenticated end to end); `http`:
    # callbacks on /webhooks/dingtalk, whose signature covers the timestamp only (see the README).
    dingtalk_mode: Literal["http", "stream"] = "stream"
    dingtalk_api_domain: str = "https://api.dingtalk.com"
    dingtalk_oapi_domain: str = "https://oapi.dingtalk.com"
    # Stream mode: reconnect when nothing (no frame, no pong to our ping) arrived for this long; back
    # off from 1 s to at most 60 s after errors; retry refused credentials every 5 minutes.
    dingtalk_stream_watchdog_seconds: Positive = 90.0
    dingtalk_stream_backoff_seconds: Positive = 1.0
    dingtalk_stream_backoff_max_seconds: Positive = 60.0
    dingtalk_stream_refused_retry_seconds: Positive = 300.0
    # How often pending inbound events are looked for (retries due, events acked but left behind).
    inbound_sweep_seconds: Positive = 15.0

    # Encrypts integration secrets at rest (a Fernet key); older keys, comma-separated, still decrypt
    # while rows are re-encrypted under the new one (see README, Security).
    secret_key: SecretStr | None = None
    secret_keys_old: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    # Processed inbound events, delivered outbox rows, job runs ... older than this are deleted daily.
    retention_days: Annotated[int, Field(ge=1)] = 30

    # The web dashboard (`/dashboard`): the base URL people open (e.g. https://crosstrack.example.com),
    # how long a link stays valid, and the key its links are signed with. Off while public_url is unset.
    public_url: str | None = None
    dashboard_link_days: int = Field(default=7, ge=1, le=90)
    dashboard_secret: SecretStr | None = None

    @field_validator("secret_keys_old", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return [key.strip() for key in value.split(",") if key.strip()] if isinstance(value, str) else value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @field_validator("feishu_domain", "dingtalk_api_domain", "dingtalk_oapi_domain")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("public_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            example = "https://crosstrack.example.com"
            raise ValueError(f"CROSSTRACK_PUBLIC_URL must be an http(s) URL like {example}; got {value!r}")
        return value

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.feishu_app_id:
            required = [("CROSSTRACK_FEISHU_APP_SECRET", self.feishu_app_secret)]
            if self.feishu_mode == "http":  # long-connection events are authenticated by the connection
                required.append(("CROSSTRACK_FEISHU_VERIFICATION_TOKEN", self.feishu_verification_token))
            missing = [name for name, value in required if _is_placeholder(value)]
            if self.feishu_encrypt_key is not None and _is_placeholder(self.feishu_encrypt_key):
                missing.append("CROSSTRACK_FEISHU_ENCRYPT_KEY")
            if missing:
                raise ValueError(
                    "Feishu is enabled (CROSSTRACK_FEISHU_APP_ID is set) but these secrets are empty "
                    f"or placeholders: {', '.join(missing)}"
                )
            if self.feishu_accepts_unsigned and not self.feishu_allow_unsigned:
                raise ValueError(
                    "Feishu HTTP mode needs CROSSTRACK_FEISHU_ENCRYPT_KEY (the Encrypt Key of the event "
                    "subscription): without it requests are neither signed nor time-stamped. Set it, "
                    "or accept unsigned requests explicitly with CROSSTRACK_FEISHU_ALLOW_UNSIGNED=true"
                )
        if self.dingtalk_app_key:
            missing = [
                name
                for name, value in (
                    ("CROSSTRACK_DINGTALK_APP_SECRET", self.dingtalk_app_secret),
                    ("CROSSTRACK_DINGTALK_ROBOT_CODE", self.dingtalk_robot_code),
                )
                if _is_placeholder(value)
            ]
            if missing:
                raise ValueError(
                    "DingTalk is enabled (CROSSTRACK_DINGTALK_APP_KEY is set) but these are empty "
                    f"or placeholders: {', '.join(missing)}"
                )
        if self.public_url is not None and (
            _is_placeholder(self.dashboard_secret)
            or len(self.dashboard_secret.get_secret_value() if self.dashboard_secret else "") < 32
        ):
            raise ValueError(
                "CROSSTRACK_PUBLIC_URL is set, so dashboard links are signed: set "
                "CROSSTRACK_DASHBOARD_SECRET to a random value of at least 32 characters, e.g. from "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
            )
        if self.api_token is not None and _is_placeholder(self.api_token):
            raise ValueError("CROSSTRACK_API_TOKEN is a placeholder; set a real token or unset it")
        keys = [(KEY_SETTING, self.secret_key)] if self.secret_key is not None else []
        for name, key in [*keys, *((OLD_KEYS_SETTING, old) for old in self.secret_keys_old)]:
            try:
                SecretBox([key.get_secret_value()])
            except ValueError as exc:
                raise ValueError(
                    f"{name} must hold Fernet keys (32 url-safe base64-encoded bytes), e.g. from "
                    "`python -c 'from storage.secretbox import new_key; print(new_key())'`"
                ) from exc
        return self

    @property
    def feishu_enabled(self) -> bool:
        return bool(self.feishu_app_id)

    @property
    def feishu_accepts_unsigned(self) -> bool:
        """Feishu webhooks that only a static token in the body vouches for (see above)."""
        return self.feishu_enabled and self.feishu_mode == "http" and self.feishu_encrypt_key is None

    @property
    def dashboard_enabled(self) -> bool:
        return self.public_url is not None

    @property
    def dingtalk_enabled(self) -> bool:
        return bool(self.dingtalk_app_key)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def secret_box(self) -> SecretBox | None:
        """None without CROSSTRACK_SECRET_KEY: features that store secrets refuse, the rest works."""
        if self.secret_key is None:
            return None
        keys = [self.secret_key, *self.secret_keys_old]
        return SecretBox([key.get_secret_value() for key in keys])


@lru_cache
def get_settings() -> Settings:
    return Settings()
