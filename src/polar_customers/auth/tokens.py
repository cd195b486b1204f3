"""Token strings: generation with a checksum, and the keyed hash that is all we store."""

import hashlib
import hmac
import secrets
import string
import zlib
from enum import StrEnum

_ALPHABET = string.digits + string.ascii_letters
_RANDOM_LENGTH = 37
_CHECKSUM_LENGTH = 6


class TokenPrefix(StrEnum):
    organization = "polar_oat_"
    personal = "polar_pat_"


def _base62(number: int, width: int) -> str:
    digits = []
    while number:
        number, remainder = divmod(number, 62)
        digits.append(_ALPHABET[remainder])
    return "".join(reversed(digits)).rjust(width, "0")


def generate_token(prefix: TokenPrefix) -> str:
    """A new token: prefix, 37 random letters and digits, and a base62 CRC32 checksum."""
    body = "".join(secrets.choice(_ALPHABET) for _ in range(_RANDOM_LENGTH))
    return f"{prefix}{body}{_base62(zlib.crc32(body.encode()), _CHECKSUM_LENGTH)}"


def hash_token(token: str, *, key: bytes) -> str:
    """The HMAC-SHA256 hex digest under which a token is stored and looked up."""
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()
