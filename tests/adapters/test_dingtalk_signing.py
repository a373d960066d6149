"""DingTalk signing: known-answer vectors from platform_samples/dingtalk and callback verification."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.base import WebhookRejected
from adapters.dingtalk.signing import callback_sign, custom_robot_sign, verify_callback
from tests.samples import load

VECTORS: list[dict[str, Any]] = load("dingtalk", "hmac_sign_test_vectors.self-computed")["vectors"]
SECRET = "gNcjkx_hp8Z3rNJkQ4KQ9-wZzG-ExampleAppSecret-xxxxxxxxxxxxxxxxxxxxxx"
# The timestamp of the official header sample, as a moment: 2019-12-25 08:23:56.757 UTC.
SAMPLE_TS = load("dingtalk", "http_callback_headers.receive-message-doc")["timestamp"]
SENT = datetime.fromtimestamp(int(SAMPLE_TS) / 1000, tz=UTC)


def headers(timestamp: str = SAMPLE_TS, *, secret: str = SECRET) -> dict[str, str]:
    # Starlette hands headers over lower-cased; the official sample writes them lower-case too.
    return {"timestamp": timestamp, "sign": callback_sign(timestamp, secret)}


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["timestamp"])
def test_callback_sign_matches_the_sample_vectors(vector: dict[str, Any]) -> None:
    assert callback_sign(vector["timestamp"], vector["secret"]) == vector["sign_base64"]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["timestamp"])
def test_custom_robot_sign_is_the_url_encoded_signature(vector: dict[str, Any]) -> None:
    assert custom_robot_sign(vector["timestamp"], vector["secret"]) == vector["sign_urlencoded_quote_plus"]


def test_a_correctly_signed_fresh_callback_passes() -> None:
    verify_callback(headers(), app_secret=SECRET, now=SENT + timedelta(seconds=2))


def test_header_names_are_case_insensitive() -> None:
    sign = callback_sign(SAMPLE_TS, SECRET)
    verify_callback({"Timestamp": SAMPLE_TS, "SIGN": sign}, app_secret=SECRET, now=SENT)


def test_the_vector_signature_verifies_with_its_own_secret() -> None:
    vector = VECTORS[2]
    sent = datetime.fromtimestamp(int(vector["timestamp"]) / 1000, tz=UTC)
    verify_callback(
        {"timestamp": vector["timestamp"], "sign": vector["sign_base64"]},
        app_secret=vector["secret"],
        now=sent + timedelta(minutes=59),
    )


@pytest.mark.parametrize(
    "forged",
    [
        {"timestamp": SAMPLE_TS, "sign": "xxxxxxxxxx"},  # the doc's placeholder
        headers(secret="another app's secret"),
        # A genuine signature of another moment does not cover this one.
        {"timestamp": SAMPLE_TS, "sign": callback_sign(str(int(SAMPLE_TS) + 1), SECRET)},
        {"timestamp": SAMPLE_TS, "sign": "签名" + callback_sign(SAMPLE_TS, SECRET)},  # non-ASCII
    ],
)
def test_forged_signatures_are_rejected(forged: dict[str, str]) -> None:
    with pytest.raises(WebhookRejected, match="bad signature") as rejected:
        verify_callback(forged, app_secret=SECRET, now=SENT)
    assert rejected.value.status_code == 401


@pytest.mark.parametrize("offset", [timedelta(hours=1, seconds=1), -timedelta(hours=1, seconds=1)])
def test_timestamps_outside_the_hour_are_rejected_even_when_signed(offset: timedelta) -> None:
    # Positive offset: a stale request; negative: one dated in the future to stretch the window.
    with pytest.raises(WebhookRejected, match="stale or future"):
        verify_callback(headers(), app_secret=SECRET, now=SENT + offset)


def test_the_window_is_configurable() -> None:
    verify_callback(headers(), app_secret=SECRET, now=SENT + timedelta(seconds=59), window_seconds=60)
    with pytest.raises(WebhookRejected, match="stale or future"):
        verify_callback(headers(), app_secret=SECRET, now=SENT + timedelta(seconds=61), window_seconds=60)


@pytest.mark.parametrize(
    "incomplete",
    [
        {},
        {"timestamp": SAMPLE_TS},
        {"sign": callback_sign(SAMPLE_TS, SECRET)},
        {"timestamp": "", "sign": "x"},
    ],
)
def test_missing_headers_are_rejected(incomplete: dict[str, str]) -> None:
    with pytest.raises(WebhookRejected, match="missing"):
        verify_callback(incomplete, app_secret=SECRET, now=SENT)


@pytest.mark.parametrize(
    "timestamp", ["1577262236.757", "-1577262236757", "１５７７２６２２３６７５７", "9" * 5000]
)
def test_timestamps_that_are_not_epoch_milliseconds_are_rejected(timestamp: str) -> None:
    with pytest.raises(WebhookRejected, match="not epoch milliseconds"):
        verify_callback(headers(timestamp), app_secret=SECRET, now=SENT)
