"""Stand-ins for erased personal data (customer and member deletion with `anonymize`;
docs/decisions.md#d34)."""

import hashlib
import secrets

ANONYMIZED_EMAIL_DOMAIN = "anonymized.invalid"  # a reserved domain: never deliverable


def anonymized_text() -> str:
    """The digest of random bytes: nothing of the original enters it, so nothing can be
    recovered from it or matched against it."""
    return hashlib.sha256(secrets.token_bytes(32)).hexdigest()


def anonymized_email() -> str:
    return f"{anonymized_text()}@{ANONYMIZED_EMAIL_DOMAIN}"
