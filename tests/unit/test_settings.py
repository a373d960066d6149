import pytest
from pydantic import ValidationError

from bot.settings import Settings
from storage.db import async_url
from storage.secretbox import SecretBox, new_key


def make(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_defaults_run_without_any_platform() -> None:
    settings = make()
    assert settings.database_url == "sqlite:///./crosstrack.db"
    assert (settings.locale, settings.timezone, settings.feishu_enabled) == ("zh", "Asia/Shanghai", False)
    assert settings.feishu_domain == "https://open.feishu.cn"


def test_reads_crosstrack_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROSSTRACK_LOCALE", "en")
    monkeypatch.setenv("CROSSTRACK_FEISHU_DOMAIN", "https://open.larksuite.com/")
    settings = make()
    assert settings.locale == "en" and settings.feishu_domain == "https://open.larksuite.com"


@pytest.mark.parametrize(
    "secrets",
    [
        {"feishu_app_secret": "", "feishu_verification_token": "real-token-1"},
        {"feishu_app_secret": "changeme", "feishu_verification_token": "real-token-1"},
        {"feishu_app_secret": "real-secret-1", "feishu_verification_token": None},
        {"feishu_app_secret": "real-secret-1", "feishu_verification_token": "t", "feishu_encrypt_key": "xxx"},
    ],
)
def test_enabled_platform_with_placeholder_secret_refuses_to_start(secrets: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match="placeholders"):
        make(feishu_app_id="cli_1", **secrets)


def test_unknown_timezone_and_placeholder_api_token_are_refused() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        make(timezone="Mars/Olympus")
    with pytest.raises(ValidationError, match="API_TOKEN"):
        make(api_token="changeme")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///./crosstrack.db", "sqlite+aiosqlite:///./crosstrack.db"),
        ("postgresql://u:p@db:5432/x", "postgresql+asyncpg://u:p@db:5432/x"),
        ("postgresql+psycopg2://u@db/x", "postgresql+asyncpg://u@db/x"),
        ("postgresql+asyncpg://u@db/x", "postgresql+asyncpg://u@db/x"),
    ],
)
def test_database_urls_map_to_async_drivers(url: str, expected: str) -> None:
    assert async_url(url) == expected


def test_unsupported_database_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        async_url("mysql://root@localhost/x")


FEISHU = {"feishu_app_id": "cli_1", "feishu_app_secret": "real-secret-1", "feishu_verification_token": "vt-1"}


def test_feishu_http_mode_without_an_encrypt_key_refuses_to_start() -> None:
    with pytest.raises(ValidationError, match="CROSSTRACK_FEISHU_ALLOW_UNSIGNED"):
        make(**FEISHU)
    assert make(**FEISHU, feishu_encrypt_key="ek-1").feishu_accepts_unsigned is False
    assert make(**FEISHU, feishu_allow_unsigned=True).feishu_accepts_unsigned is True
    # The long connection is authenticated by the connection itself: no key needed.
    assert make(**FEISHU, feishu_mode="ws").feishu_accepts_unsigned is False


def test_allow_unsigned_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROSSTRACK_FEISHU_ALLOW_UNSIGNED", "true")
    assert make(**FEISHU).feishu_allow_unsigned is True


def test_secrets_are_never_shown() -> None:
    secrets = {
        "api_token": "api-token-s3cr3t",
        "feishu_app_secret": "app-secret-s3cr3t",
        "feishu_verification_token": "verification-s3cr3t",
        "feishu_encrypt_key": "encrypt-key-s3cr3t",
        "dingtalk_app_secret": "dingtalk-secret-s3cr3t",
    }
    settings = make(
        feishu_app_id="cli_1",
        dingtalk_app_key="ding1",
        dingtalk_robot_code="robot1",
        database_url="postgresql://crosstrack:db-password-s3cr3t@db/crosstrack",
        **secrets,
    )
    for shown in (repr(settings), str(settings), f"{settings}"):
        assert "s3cr3t" not in shown, shown
    assert {name: getattr(settings, name).get_secret_value() for name in secrets} == secrets
    assert "db-password-s3cr3t" in settings.database_url


def test_secret_keys_come_from_the_environment_old_ones_comma_separated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    current, old = new_key(), new_key()
    monkeypatch.setenv("CROSSTRACK_SECRET_KEY", current)
    monkeypatch.setenv("CROSSTRACK_SECRET_KEYS_OLD", f"{old}, ")
    monkeypatch.setenv("CROSSTRACK_RETENTION_DAYS", "7")
    settings = make()
    box = settings.secret_box()
    assert box is not None and settings.retention_days == 7
    assert box.open(SecretBox([old]).seal("x")) == "x"  # an old key still reads
    assert SecretBox([current]).open(box.seal("y")) == "y"  # the current one writes
    assert current not in repr(settings)


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"secret_key": "changeme"}, "CROSSTRACK_SECRET_KEY"),
        ({"secret_key": new_key(), "secret_keys_old": "not-a-key"}, "CROSSTRACK_SECRET_KEYS_OLD"),
    ],
)
def test_a_malformed_secret_key_stops_the_start_naming_it(values: dict[str, str], named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        make(**values)


DASHBOARD_SECRET = "a-real-dashboard-secret-0123456789abcdef"


def test_the_dashboard_is_off_until_its_public_url_is_set() -> None:
    assert not make().dashboard_enabled
    settings = make(public_url="https://crosstrack.example.com/", dashboard_secret=DASHBOARD_SECRET)
    assert settings.dashboard_enabled and settings.public_url == "https://crosstrack.example.com"
    assert settings.dashboard_link_days == 7
    assert DASHBOARD_SECRET not in repr(settings)


@pytest.mark.parametrize(
    "values",
    [
        {"public_url": "https://crosstrack.example.com"},  # no secret
        {"public_url": "https://crosstrack.example.com", "dashboard_secret": "changeme"},
        {"public_url": "https://crosstrack.example.com", "dashboard_secret": "short-secret"},
        {"public_url": "crosstrack.example.com", "dashboard_secret": DASHBOARD_SECRET},
        {"public_url": "ftp://crosstrack.example.com", "dashboard_secret": DASHBOARD_SECRET},
        {"public_url": "https://crosstrack.example.com/?x=1", "dashboard_secret": DASHBOARD_SECRET},
        {"public_url": "https://x.example", "dashboard_secret": DASHBOARD_SECRET, "dashboard_link_days": 0},
    ],
)
def test_dashboard_settings_are_refused_when_unusable(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        make(**values)
