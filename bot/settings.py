"""Runtime settings: one cached pydantic-settings object, read from CROSSTRACK_* variables and `.env`."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values people copy from examples and forget to replace.
_PLACEHOLDERS = {"changeme", "change-me", "xxx", "xxxxxx", "secret", "your-secret", "todo", "placeholder"}


Positive = Annotated[float, Field(gt=0)]


def _is_placeholder(value: str | None) -> bool:
    return not value or value.strip().lower() in _PLACEHOLDERS or value.strip().lower().startswith("your")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CROSSTRACK_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./crosstrack.db"
    host: str = "127.0.0.1"
    port: int = 8000
    timezone: str = "Asia/Shanghai"
    locale: Literal["zh", "en"] = "zh"
    api_token: str | None = None
    log_format: Literal["text", "json"] = "text"  # json: one JSON object a line, for log shippers

    feishu_app_id: str | None = None
    feishu_app_secret: str | None = None
    feishu_verification_token: str | None = None
    feishu_encrypt_key: str | None = None
    feishu_domain: str = "https://open.feishu.cn"
    # Signed Feishu requests older than this are refused as replays.
    feishu_replay_window_seconds: int = 300
    # `http`: events posted to /webhooks/feishu/events; `ws`: lark-oapi's long connection (no public URL).
    feishu_mode: Literal["http", "ws"] = "http"

    dingtalk_app_key: str | None = None
    dingtalk_app_secret: str | None = None
    dingtalk_robot_code: str | None = None
    # `http`: signed callbacks on /webhooks/dingtalk; `stream`: a connection we open (no public URL).
    dingtalk_mode: Literal["http", "stream"] = "http"
    dingtalk_api_domain: str = "https://api.dingtalk.com"
    dingtalk_oapi_domain: str = "https://oapi.dingtalk.com"
    # Stream mode: reconnect when nothing (no frame, no pong to our ping) arrived for this long; back
    # off from 1 s to at most 60 s after errors; retry refused credentials every 5 minutes.
    dingtalk_stream_watchdog_seconds: Positive = 90.0
    dingtalk_stream_backoff_seconds: Positive = 1.0
    dingtalk_stream_backoff_max_seconds: Positive = 60.0
    dingtalk_stream_refused_retry_seconds: Positive = 300.0

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
        if self.api_token is not None and _is_placeholder(self.api_token):
            raise ValueError("CROSSTRACK_API_TOKEN is a placeholder; set a real token or unset it")
        return self

    @property
    def feishu_enabled(self) -> bool:
        return bool(self.feishu_app_id)

    @property
    def dingtalk_enabled(self) -> bool:
        return bool(self.dingtalk_app_key)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@lru_cache
def get_settings() -> Settings:
    return Settings()
