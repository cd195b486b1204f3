"""Version negotiation: the `Polar-Version` header, resolved once per request."""

from typing import Any

import pytest

from polar_customers.errors import UnsupportedApiVersion
from polar_customers.kit.versions import DEFAULT_VERSION, REQUESTABLE, ApiVersion, negotiate


def scope_with(*headers: tuple[bytes, bytes]) -> dict[str, Any]:
    return {"type": "http", "headers": list(headers)}


def test_without_a_header_is_the_2025_api() -> None:
    assert negotiate(scope_with()) is DEFAULT_VERSION is ApiVersion.v2025_10
    assert not DEFAULT_VERSION.versioned


@pytest.mark.parametrize("version", ["2026-04", "2026-10", "2027-01"])
def test_todays_versions(version: str) -> None:
    negotiated = negotiate(scope_with((b"polar-version", version.encode())))
    assert negotiated.value == version
    assert negotiated.versioned
    assert negotiated in REQUESTABLE


@pytest.mark.parametrize("value", [b"2025-10", b"2026-11", b"latest", b"", b"\xff"])
def test_unsupported(value: bytes) -> None:
    with pytest.raises(UnsupportedApiVersion) as raised:
        negotiate(scope_with((b"polar-version", value)))
    assert raised.value.status_code == 400
    assert "2026-04, 2026-10, 2027-01" in raised.value.detail
