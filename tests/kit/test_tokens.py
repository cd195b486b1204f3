import string
import zlib

from polar_customers.auth.tokens import TokenPrefix, generate_token, hash_token


def test_generated_token_shape_and_checksum() -> None:
    token = generate_token(TokenPrefix.personal)
    assert token.startswith("polar_pat_")
    body, checksum = token[10:-6], token[-6:]
    assert len(body) == 37
    assert set(body + checksum) <= set(string.ascii_letters + string.digits)
    alphabet = string.digits + string.ascii_letters
    value = 0
    for char in checksum:
        value = value * 62 + alphabet.index(char)
    assert value == zlib.crc32(body.encode())


def test_tokens_differ() -> None:
    assert generate_token(TokenPrefix.organization) != generate_token(TokenPrefix.organization)


def test_hash_is_keyed() -> None:
    assert hash_token("t", key=b"a") != hash_token("t", key=b"b")
    assert hash_token("t", key=b"a") == hash_token("t", key=b"a")
    assert len(hash_token("t", key=b"a")) == 64
