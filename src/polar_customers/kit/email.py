"""Email addresses: syntax and normalization always, DNS deliverability when enabled."""

from contextvars import ContextVar
from typing import Annotated, Any

import email_validator
from pydantic import AfterValidator, BeforeValidator, WithJsonSchema
from pydantic.networks import validate_email
from pydantic_core import PydanticCustomError

from polar_customers.kit.schemas import storable

check_deliverability: ContextVar[bool] = ContextVar("check_deliverability", default=False)
"""Set per request from the settings; off by default so that the server works offline."""

DNS_TIMEOUT_SECONDS = 15


def dns_resolver() -> Any:
    """The resolver for deliverability checks (replaced in tests: DNS is off this machine)."""
    return email_validator.caching_resolver(timeout=DNS_TIMEOUT_SECONDS)


def _normalize(value: object) -> object:
    # Syntax errors report the raw input; the normalized address then flows to `_check_dns`,
    # whose errors therefore report the normalized one, as Polar's do.
    if not isinstance(value, str):
        return value
    return validate_email(storable(value))[1]


def _check_dns(email: str) -> str:
    if not check_deliverability.get():
        return email
    try:
        email_validator.validate_email(
            email, check_deliverability=True, dns_resolver=dns_resolver()
        )
    except email_validator.EmailUndeliverableError as error:
        raise PydanticCustomError(
            "value_error",
            "{email} is not a valid email address: {reason}",
            {"email": email, "reason": str(error)},
        ) from error
    except email_validator.EmailNotValidError:
        pass  # syntax was already checked by `_normalize`
    return email


EmailStrDNS = Annotated[
    str,
    AfterValidator(_check_dns),
    BeforeValidator(_normalize),
    WithJsonSchema({"type": "string", "format": "email"}),
]
