"""docker-compose.yml and the Dockerfile, checked without Docker: structure, and settings drift."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
PREFIX = Settings.model_config.get("env_prefix", "")
SECRETS = {
    "api_token",
    "feishu_app_id",
    "feishu_app_secret",
    "feishu_verification_token",
    "feishu_encrypt_key",
    "dingtalk_app_key",
    "dingtalk_app_secret",
    "dingtalk_robot_code",
    "secret_key",
    "secret_keys_old",
}
# `${VAR:-default}`, as compose interpolates it.
INTERPOLATION = re.compile(r"\$\{(\w+):-([^}]*)\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def env_name(field: str) -> str:
    return f"{PREFIX}{field}".upper()


def test_services_start_in_order(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"db", "migrate", "app"}
    db = services["db"]
    assert db["image"] == "postgres:16"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert db["volumes"] and set(compose["volumes"]) == {v.split(":", 1)[0] for v in db["volumes"]}

    migrate = services["migrate"]
    assert migrate["build"] == "." and migrate["command"] == ["crosstrack", "migrate"]
    assert migrate["depends_on"] == {"db": {"condition": "service_healthy"}}

    app = services["app"]
    assert app["image"] == migrate["image"]
    assert app["command"] == ["crosstrack", "serve", "--host", "0.0.0.0"]
    assert "8000:8000" in app["ports"]
    assert app["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }


def test_every_setting_is_in_the_environment(compose: dict[str, Any]) -> None:
    expected = {env_name(field) for field in Settings.model_fields}
    for service in ("migrate", "app"):
        environment = compose["services"][service]["environment"]
        missing = expected - set(environment)
        unknown = set(environment) - expected
        assert not missing, f"{service}: add {sorted(missing)} to docker-compose.yml"
        assert not unknown, f"{service}: {sorted(unknown)} are not settings in bot/settings.py"


def test_environment_values(compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    environment = compose["services"]["app"]["environment"]
    assert environment[env_name("database_url")] == "postgresql://postgres:postgres@db:5432/crosstrack"
    for field in SECRETS & set(Settings.model_fields):
        # Passed through from the host only when set there; never a value in the file.
        assert environment[env_name(field)] is None, field
    # With nothing set on the host, the defaults make valid settings.
    for name in [name for name in os.environ if name.startswith(PREFIX.upper())]:
        monkeypatch.delenv(name)
    values: dict[str, Any] = {
        field: INTERPOLATION.sub(lambda match: match.group(2), str(environment[env_name(field)]))
        for field in Settings.model_fields
        if environment[env_name(field)] is not None
    }
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    assert settings.host == "0.0.0.0" and settings.port == 8000 and settings.api_token is None


def test_dockerfile_installs_the_package() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.MULTILINE)
    assert "pip install ." in dockerfile
    assert '"crosstrack", "serve"' in dockerfile
