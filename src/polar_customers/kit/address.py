"""Postal addresses: ISO-3166 countries, US states and Canadian provinces."""

from enum import StrEnum
from typing import Annotated, Self

import pycountry
from pydantic import BeforeValidator, Field, model_validator

from polar_customers.kit.schemas import EmptyStrToNone, Schema

_ALL_CODES = sorted(country.alpha_2 for country in pycountry.countries)
# Sanctioned countries cannot be entered, though stored addresses may still carry them.
_UNSUPPORTED_INPUT = frozenset({"CU", "IR", "KP", "RU", "SY"})

CountryAlpha2 = StrEnum(  # type: ignore[misc]
    "CountryAlpha2", {code: code for code in _ALL_CODES}
)
CountryAlpha2Input = StrEnum(  # type: ignore[misc]
    "CountryAlpha2Input", {code: code for code in _ALL_CODES if code not in _UNSUPPORTED_INPUT}
)

US_STATES = frozenset(
    [
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "DC",
    ]
)
CA_PROVINCES = frozenset(["AB", "BC", "MB", "NB", "NL", "NS", "ON", "PE", "QC", "SK"])
_SUBDIVISIONS = {"US": (US_STATES, "Invalid US state"), "CA": (CA_PROVINCES, "Invalid CA province")}


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


class Address(Schema):
    line1: str | None = None
    line2: str | None = None
    postal_code: str | None = None
    city: str | None = None
    state: str | None = None
    country: Annotated[CountryAlpha2, Field(examples=["US", "SE", "FR"])]


class AddressInput(Schema):
    line1: EmptyStrToNone = None
    line2: EmptyStrToNone = None
    postal_code: EmptyStrToNone = None
    city: EmptyStrToNone = None
    state: EmptyStrToNone = None
    country: Annotated[
        CountryAlpha2Input, BeforeValidator(_upper), Field(examples=["US", "SE", "FR"])
    ]

    @model_validator(mode="after")
    def _normalize_state(self) -> Self:
        country = self.country.value
        if self.state is None or country not in _SUBDIVISIONS:
            return self
        if not self.state.startswith(f"{country}-"):
            self.state = f"{country}-{self.state}"
        subdivisions, message = _SUBDIVISIONS[country]
        if self.state.removeprefix(f"{country}-") not in subdivisions:
            raise ValueError(message)
        return self
