"""Integration secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) under the key in
CROSSTRACK_SECRET_KEY, with older keys still accepted for reading (MultiFernet) while they are rotated
out, and a keyed digest for values that must be looked up by equality (ciphertexts differ each time)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_SETTING = "CROSSTRACK_SECRET_KEY"
OLD_KEYS_SETTING = "CROSSTRACK_SECRET_KEYS_OLD"


def new_key() -> str:
    return Fernet.generate_key().decode()


def _digest_key(key: str) -> bytes:
    # Its own key, derived from the Fernet key: the digest never reuses Fernet's signing key.
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"crosstrack lookup digest")
    return hkdf.derive(key.encode())


class SecretBox:
    """`keys[0]` seals; every key opens. Raises ValueError for a key that is not a Fernet key."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError(f"{KEY_SETTING} is not set")
        self._fernets = [Fernet(key.encode()) for key in keys]
        self._multi = MultiFernet(self._fernets)
        self._digest_keys = [_digest_key(key) for key in keys]

    def seal(self, plaintext: str) -> str:
        return self._multi.encrypt(plaintext.encode()).decode()

    def open(self, token: str) -> str:
        try:
            return self._multi.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ValueError(
                f"a stored secret cannot be decrypted with {KEY_SETTING} or {OLD_KEYS_SETTING}: "
                "was the key changed without listing the old one?"
            ) from exc

    def reseal(self, token: str) -> str:
        """The token under the current key (unchanged in meaning); the same token if it already is."""
        try:
            self._fernets[0].decrypt(token.encode())
            return token
        except InvalidToken:
            return self._multi.rotate(token.encode()).decode()

    def digest(self, value: str) -> str:
        """HMAC-SHA256 of `value` under the current key, hex: equal values, equal digests."""
        return self.digests(value)[0]

    def digests(self, value: str) -> list[str]:
        """The digest under each key, current first: a row stored before a rotation still matches."""
        return [hmac.new(key, value.encode(), hashlib.sha256).hexdigest() for key in self._digest_keys]


def opener(box: SecretBox | None) -> Callable[[str], str]:
    """`box.open`, or without a box (no key configured) a function refusing with the setting's name."""
    if box is not None:
        return box.open

    def no_key(_: str) -> str:
        raise ValueError(f"{KEY_SETTING} is not set, so stored secrets cannot be decrypted")

    return no_key
