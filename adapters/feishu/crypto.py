"""Feishu webhook cryptography (pure): AES-256-CBC bodies and the request signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from Crypto.Cipher import AES
from Crypto.Util.Padding import pad
from lark_oapi.core.utils.decryptor import AESCipher


def decrypt(encrypt_key: str, encrypted_b64: str) -> str:
    """Decrypt an `{"encrypt": ...}` value; raises ValueError on any malformed input."""
    # lark-oapi's cipher checks length and PKCS7 padding; base64 and UTF-8 errors are ValueErrors too.
    return AESCipher(encrypt_key).decrypt_str(encrypted_b64)


def encrypt(encrypt_key: str, plaintext: str | bytes) -> str:
    """The inverse of `decrypt` (random IV); used to build encrypted payloads in tests (bytes: to
    encrypt what is not UTF-8)."""
    data = plaintext.encode() if isinstance(plaintext, str) else plaintext
    iv = os.urandom(AES.block_size)
    cipher = AES.new(hashlib.sha256(encrypt_key.encode()).digest(), AES.MODE_CBC, iv)
    return base64.b64encode(iv + cipher.encrypt(pad(data, AES.block_size))).decode()


def signature(timestamp: str, nonce: str, encrypt_key: str, raw_body: bytes) -> str:
    """X-Lark-Signature: hex(sha256(timestamp + nonce + encrypt_key + raw body bytes))."""
    return hashlib.sha256((timestamp + nonce + encrypt_key).encode() + raw_body).hexdigest()


def verify_signature(timestamp: str, nonce: str, encrypt_key: str, raw_body: bytes, received: str) -> bool:
    expected = signature(timestamp, nonce, encrypt_key, raw_body)
    # Bytes, because compare_digest refuses non-ASCII str and the header is attacker-controlled.
    return hmac.compare_digest(expected.encode(), received.encode())
