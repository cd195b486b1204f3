"""Helpers shared by the GET /v1/customers/{id}/state test modules."""

from datetime import UTC, datetime
from typing import Any

import httpx

from polar_customers.models import Customer

T0 = datetime(2025, 9, 1, 10, 0, 0, 123456, tzinfo=UTC)


def iso(value: datetime) -> str:
    """A datetime as the API renders it: UTC, `Z` suffix."""
    return value.isoformat().replace("+00:00", "Z")


async def get_state(
    client: httpx.AsyncClient, customer: Customer, headers: dict[str, str]
) -> dict[str, Any]:
    response = await client.get(f"/v1/customers/{customer.id}/state", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
