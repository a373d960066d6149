"""Dashboard link tokens: what `sign` makes `verify` gives back until it expires, and nothing else
verifies: another key, any changed byte, a bad encoding, a token too long or too short, an older
format. (Revoked generations and removed members are checked where links are opened:
tests/services/test_dashboard.py.)"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import dashboard_link
from bot.domain.dashboard_link import MAX_TOKEN_CHARS, Link, sign, verify

KEY = b"k" * 32
NOW = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
LINK = Link(project_id=3, member_id=41, expires_at=NOW + timedelta(days=7), generation=2)


def _raw(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def _token(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_a_signed_link_verifies_until_it_expires() -> None:
    token = sign(KEY, LINK)
    assert len(token) <= MAX_TOKEN_CHARS and token.isascii()
    assert verify(KEY, token, NOW) == LINK
    assert verify(KEY, token, LINK.expires_at - timedelta(seconds=1)) == LINK
    assert verify(KEY, token, LINK.expires_at) is None
    assert verify(KEY, token, NOW + timedelta(days=30)) is None


def test_another_key_does_not_verify() -> None:
    assert verify(b"x" * 32, sign(KEY, LINK), NOW) is None
    assert verify(KEY, sign(b"x" * 32, LINK), NOW) is None


@pytest.mark.parametrize("index", range(53))
def test_any_changed_byte_is_refused(index: int) -> None:
    raw = bytearray(_raw(sign(KEY, LINK)))
    raw[index] ^= 0x01
    assert verify(KEY, _token(bytes(raw)), NOW) is None


def test_a_tampered_payload_with_the_old_signature_is_refused() -> None:
    raw = _raw(sign(KEY, LINK))
    # Someone else's member id, or a later expiry, under the signature of the original.
    other = struct.pack(">BIIQI", 1, 3, 42, int(LINK.expires_at.timestamp()), 2) + raw[21:]
    later = struct.pack(">BIIQI", 1, 3, 41, int(LINK.expires_at.timestamp()) + 86400, 2) + raw[21:]
    assert verify(KEY, _token(other), NOW) is None
    assert verify(KEY, _token(later), NOW) is None


@pytest.mark.parametrize(
    "token",
    [
        "",
        "!!!!",
        "abc",  # too short, and not a whole number of bytes
        "a" * 71,  # the right length, not a signature
        "x/y+z=",  # standard base64, not url-safe
        "é" * 10,
        "A" * (MAX_TOKEN_CHARS + 1),
    ],
)
def test_malformed_tokens_are_refused(token: str) -> None:
    assert verify(KEY, token, NOW) is None


def test_an_oversized_or_cut_token_is_refused() -> None:
    token = sign(KEY, LINK)
    assert verify(KEY, token + "A" * 4, NOW) is None
    assert verify(KEY, token + "A" * MAX_TOKEN_CHARS, NOW) is None
    assert verify(KEY, token[:-4], NOW) is None


def test_another_version_is_refused_even_when_signed() -> None:
    """A format this code does not know is not read, whoever signed it."""
    payload = struct.pack(">BIIQI", 2, 3, 41, int(LINK.expires_at.timestamp()), 2)
    mac = hmac.new(KEY, dashboard_link._PURPOSE + payload, hashlib.sha256).digest()
    assert verify(KEY, _token(payload + mac), NOW) is None


def test_values_that_do_not_fit_are_not_signed() -> None:
    with pytest.raises(ValueError):
        sign(KEY, Link(2**32, 1, LINK.expires_at, 0))
    with pytest.raises(ValueError):
        sign(KEY, Link(1, 1, LINK.expires_at, -1))


@given(st.text(max_size=200))
def test_no_random_text_verifies(token: str) -> None:
    assert verify(KEY, token, NOW) is None
