"""Email addresses: syntax and normalization always, DNS deliverability when enabled."""

from contextvars import ContextVar
from typing import Annotated

import email_validator
from pydantic import AfterValidator, BeforeValidator, EmailStr
from pydantic_core import PydanticCustomError

from polar_customers.kit.schemas import storable_if_str

check_deliverability: ContextVar[bool] = ContextVar("check_deliverability", default=False)
"""Set per request from the settings; off by default so that the server works offline."""

DNS_TIMEOUT_SECONDS = 15


def _check_dns(email: str) -> str:
    if not check_deliverability.get():
        return email
    try:
        email_validator.validate_email(
            email,
            check_deliverability=True,
            dns_resolver=email_validator.caching_resolver(timeout=DNS_TIMEOUT_SECONDS),
        )
    except email_validator.EmailUndeliverableError as error:
        raise PydanticCustomError(
            "value_error",
            "{email} is not a valid email address: {reason}",
            {"email": email, "reason": str(error)},
        ) from error
    except email_validator.EmailNotValidError:
        pass  # syntax was already checked by EmailStr
    return email


EmailStrDNS = Annotated[EmailStr, BeforeValidator(storable_if_str), AfterValidator(_check_dns)]
