"""The response version slot: resolved once per request, kept in its ASGI scope."""

from typing import Any

from polar_customers.kit import versions
from polar_customers.kit.versions import DEFAULT_VERSION, ApiVersion, request_version


def test_without_a_header_is_the_2025_contract() -> None:
    scope: dict[str, Any] = {"type": "http", "headers": []}

    assert request_version(scope) is ApiVersion.v2025_10 is DEFAULT_VERSION


def test_resolved_once_per_request(monkeypatch: Any) -> None:
    calls: list[object] = []

    def negotiate(scope: Any) -> ApiVersion:
        calls.append(scope)
        return DEFAULT_VERSION

    monkeypatch.setattr(versions, "_negotiate", negotiate)
    scope: dict[str, Any] = {"type": "http", "headers": []}

    assert request_version(scope) == request_version(scope) == DEFAULT_VERSION
    assert len(calls) == 1
    assert scope["state"]["api_version"] == DEFAULT_VERSION
