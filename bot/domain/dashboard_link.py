"""The dashboard's personal links: a token that says which member of which project may read the
page until when, signed with HMAC-SHA256 so that nobody can make or alter one without the key.

Token = base64url(version, project id, member id, expiry, link generation ‖ HMAC of those bytes),
without padding. The member's link generation is stored with the member; `/dashboard revoke`
raises it, and every token carrying an older one is refused. `verify` says only whether a token
is good, never why not: a refused link gets one answer whatever went wrong.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import struct
from dataclasses import dataclass
from datetime import UTC, datetime

VERSION = 1
# version, project id, member id, expiry (Unix seconds), generation
_LAYOUT = struct.Struct(">BIIQI")
_MAC_BYTES = hashlib.sha256().digest_size
_TOKEN_BYTES = _LAYOUT.size + _MAC_BYTES
MAX_TOKEN_CHARS = 96  # a real token is 71: anything longer is refused before it is decoded
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]+")
# Keeps these MACs apart from anything else the same key might ever sign.
_PURPOSE = b"crosstrack dashboard link\x00"
_MAX_FIELD = 2**32 - 1


@dataclass(frozen=True)
class Link:
    project_id: int
    member_id: int
    expires_at: datetime  # UTC, whole seconds
    generation: int


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, _PURPOSE + payload, hashlib.sha256).digest()


def sign(key: bytes, link: Link) -> str:
    for value in (link.project_id, link.member_id, link.generation):
        if not 0 <= value <= _MAX_FIELD:
            raise ValueError(f"{value} does not fit a dashboard link")
    expiry = int(link.expires_at.timestamp())
    payload = _LAYOUT.pack(VERSION, link.project_id, link.member_id, expiry, link.generation)
    return base64.urlsafe_b64encode(payload + _mac(key, payload)).rstrip(b"=").decode("ascii")


def verify(key: bytes, token: str, now: datetime) -> Link | None:
    """The link `token` stands for, if it was signed with `key` and has not expired; else None.
    Whether its member still exists and its generation is current is for the caller to check."""
    if len(token) > MAX_TOKEN_CHARS or not _TOKEN_SHAPE.fullmatch(token):
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != _TOKEN_BYTES:
        return None
    payload, mac = raw[: _LAYOUT.size], raw[_LAYOUT.size :]
    if not hmac.compare_digest(mac, _mac(key, payload)):
        return None
    version, project_id, member_id, expiry, generation = _LAYOUT.unpack(payload)
    if version != VERSION or expiry <= now.timestamp():
        return None
    return Link(project_id, member_id, datetime.fromtimestamp(expiry, UTC), generation)
