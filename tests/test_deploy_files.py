"""docker-compose.yml and the Dockerfile, checked without Docker: structure, and settings drift."""

from __future__ import annotations

import os
import re
import tomllib
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
    "dashboard_secret",
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
    assert set(services) == {"db", "migrate", "app", "scheduler"}
    db = services["db"]
    assert db["image"] == "postgres:16"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert db["volumes"] and set(compose["volumes"]) == {v.split(":", 1)[0] for v in db["volumes"]}

    migrate = services["migrate"]
    assert migrate["build"] == "." and migrate["command"] == ["crosstrack", "migrate"]
    assert migrate["depends_on"] == {"db": {"condition": "service_healthy"}}

    after_migrations = {
        "db": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    app = services["app"]
    assert app["image"] == migrate["image"]
    # API replicas leave the jobs to the scheduler service.
    assert app["command"] == ["crosstrack", "serve", "--no-scheduler", "--host", "0.0.0.0"]
    assert "8000:8000" in app["ports"]
    assert app["depends_on"] == after_migrations
    assert "/readyz" in " ".join(app["healthcheck"]["test"])

    scheduler = services["scheduler"]
    assert scheduler["image"] == migrate["image"]
    assert scheduler["command"] == ["crosstrack", "scheduler"]
    assert scheduler["depends_on"] == after_migrations
    assert scheduler["environment"] == app["environment"]
    assert scheduler["healthcheck"] == {"disable": True}  # no HTTP server to ask


def test_the_database_password_comes_from_the_environment(compose: dict[str, Any]) -> None:
    """No literal password: compose refuses to start without POSTGRES_PASSWORD."""
    required = "${POSTGRES_PASSWORD:?"
    assert compose["services"]["db"]["environment"]["POSTGRES_PASSWORD"].startswith(required)
    url = compose["services"]["app"]["environment"][env_name("database_url")]
    assert url.startswith(f"postgresql://postgres:{required}") and url.endswith("@db:5432/crosstrack")
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert "postgres:postgres@" not in text and "POSTGRES_PASSWORD: postgres" not in text


def test_every_setting_is_in_the_environment(compose: dict[str, Any]) -> None:
    expected = {env_name(field) for field in Settings.model_fields}
    for service in ("migrate", "app", "scheduler"):
        environment = compose["services"][service]["environment"]
        missing = expected - set(environment)
        unknown = set(environment) - expected
        assert not missing, f"{service}: add {sorted(missing)} to docker-compose.yml"
        assert not unknown, f"{service}: {sorted(unknown)} are not settings in bot/settings.py"


def test_environment_values(compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    environment = compose["services"]["app"]["environment"]
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


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_dockerfile_installs_the_lock_before_the_code() -> None:
    steps = dockerfile_instructions()
    assert steps[0] == ("FROM", "python:3.11-slim")
    copies = [i for i, (op, _) in enumerate(steps) if op == "COPY"]
    runs = [(i, args) for i, (op, args) in enumerate(steps) if op == "RUN"]
    # The dependency layer: the lock alone, installed hash-checked, before the source is copied.
    assert steps[copies[0]][1].split()[0] == "requirements.lock"
    [(lock_step, _)] = [(i, args) for i, args in runs if "--require-hashes -r requirements.lock" in args]
    source = next(i for i in copies if steps[i][1].startswith(". "))
    assert copies[0] < lock_step < source
    # Then the package itself, without resolving dependencies again.
    assert any(i > source and "pip install --no-deps ." in args for i, args in runs)
    assert steps[-1] == ("CMD", '["crosstrack", "serve", "--host", "0.0.0.0"]')


def test_dockerfile_runs_as_a_numeric_non_root_user_and_checks_readiness() -> None:
    steps = dockerfile_instructions()
    [user] = [args for op, args in steps if op == "USER"]
    uid, gid = user.split(":")
    assert uid.isdigit() and gid.isdigit() and int(uid) > 0 and int(gid) > 0
    assert any(f"--uid {uid}" in args for op, args in steps if op == "RUN")
    [health] = [args for op, args in steps if op == "HEALTHCHECK"]
    assert "CMD" in health and "http://127.0.0.1:8000/readyz" in health


def test_ci_installs_the_lock_and_checks_format_and_types() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements-test.lock" in script
    assert "--no-deps -e ." in script
    assert "ruff format --check ." in script
    assert "mypy bot adapters scheduler storage" in script
    assert "set -euo pipefail" in script  # pytest's exit 5 (no tests ran) fails the run too


def _pins(lock_name: str) -> dict[str, str]:
    lock = (ROOT / lock_name).read_text(encoding="utf-8")
    requirements = [line for line in lock.splitlines() if re.match(r"^[A-Za-z0-9]", line)]
    assert requirements and all(" \\" in line for line in requirements), f"{lock_name}: hashes missing"
    return {
        name.lower().replace("_", "-"): version
        for name, version in (line.split(" ")[0].split("==") for line in requirements)
    }


def _declared(names: list[str]) -> set[str]:
    return {re.split(r"[\[<>=!~; ]", name, maxsplit=1)[0].lower().replace("_", "-") for name in names}


def test_the_locks_pin_every_dependency_with_hashes_and_agree() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime, everything = _pins("requirements.lock"), _pins("requirements-test.lock")
    # The image installs the runtime lock only: no test tools in production.
    assert not _declared(project["dependencies"]) - set(runtime), "regenerate requirements.lock"
    assert "pytest" not in runtime and "mypy" not in runtime
    tests = _declared(project["optional-dependencies"]["test"])
    assert not (_declared(project["dependencies"]) | tests) - set(everything), "regenerate the test lock"
    # CI tests exactly the versions the image runs.
    assert {name: everything.get(name) for name in runtime} == runtime
    assert "tenacity" not in project["dependencies"]  # nothing imports it
