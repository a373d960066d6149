"""Known-answer tests for Feishu body decryption and request signatures."""

from __future__ import annotations

import pytest

from adapters.feishu.crypto import decrypt, encrypt, signature, verify_signature
from tests.samples import load


def test_decrypts_the_docs_hello_world_vector() -> None:
    vector = load("feishu", "decrypt_vector_doc_hello_world")
    assert decrypt(vector["encrypt_key"], vector["encrypt"]) == vector["expected_plaintext"]


def test_decrypts_the_go_sdk_event_vector() -> None:
    vector = load("feishu", "decrypt_vector_go_sdk_test_event")
    assert decrypt(vector["encrypt_key"], vector["body"]["encrypt"]) == vector["expected_plaintext"]


@pytest.mark.parametrize("ciphertext", ["not base64!", "", "AAAA", "ds3da3sj32421lkkld4xxxx"])
def test_malformed_ciphertext_raises_value_error(ciphertext: str) -> None:
    with pytest.raises(ValueError):
        decrypt("1212121212", ciphertext)


def test_wrong_key_raises_value_error() -> None:
    vector = load("feishu", "decrypt_vector_doc_hello_world")
    with pytest.raises(ValueError):
        decrypt("wrong key", vector["encrypt"])


@pytest.mark.parametrize("plaintext", ["", "hello world", '{"text":"进度 50% ✅"}', "x" * 1000])
def test_encrypt_round_trips(plaintext: str) -> None:
    ciphertext = encrypt("some key", plaintext)
    assert decrypt("some key", ciphertext) == plaintext
    assert encrypt("some key", plaintext) != ciphertext  # random IV


def test_signature_matches_the_go_sdk_vector() -> None:
    vector = load("feishu", "signature_vector_go_sdk_test")
    headers = vector["headers"]
    raw_body = vector["raw_body"].encode()
    args = (headers["X-Lark-Request-Timestamp"], headers["X-Lark-Request-Nonce"], vector["encrypt_key"])

    assert signature(*args, raw_body) == vector["expected_signature_computed_locally"]
    assert verify_signature(*args, raw_body, headers["X-Lark-Signature"])


def test_tampered_signature_body_or_key_fails() -> None:
    vector = load("feishu", "signature_vector_go_sdk_test")
    raw_body = vector["raw_body"].encode()
    good = vector["expected_signature_computed_locally"]
    flipped = ("0" if good[0] != "0" else "1") + good[1:]

    assert not verify_signature("timestamp", "nonce", "1212121212", raw_body, flipped)
    assert not verify_signature("timestamp", "nonce", "1212121212", raw_body + b" ", good)
    assert not verify_signature("timestamp", "nonce", "other key", raw_body, good)
    assert not verify_signature("timestamp", "nonce", "1212121212", raw_body, "签名")  # non-ASCII: False
