"""The state's lists are written by the database (kit/sql_json.py): the document must be the
one pydantic writes for the same values, down to the bytes, whatever the values."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.customers.schemas import CustomerState
from polar_customers.kit.sql_json import sqlite_json_float
from polar_customers.models import Customer, Organization
from tests.factories import (
    create_benefit,
    create_benefit_grant,
    create_customer,
    create_customer_meter,
    create_meter,
    create_product,
    create_subscription,
    create_subscription_meter,
)

ROUND = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)  # no fraction: `...:00Z`
FRACTION = datetime(2025, 3, 1, 12, 0, 0, 120000, tzinfo=UTC)  # `...:00.120000Z`
# Floats that need every digit, integral ones, large and small ones.
AWKWARD_FLOATS = [0.1 + 0.2, 10.0, 0.0, -2.5, 1 / 3, 1e20, 2.5e15, 123456.789, 1e-7]


def _pydantic_json(body: bytes) -> bytes:
    """The document pydantic writes for the values of `body`."""
    state = CustomerState.model_validate_json(body, by_name=True)
    return state.__pydantic_serializer__.to_json(state)


async def _state(client: httpx.AsyncClient, customer: Customer, headers: dict[str, str]) -> bytes:
    response = await client.get(f"/v1/customers/{customer.id}/state", headers=headers)
    assert response.status_code == 200, response.text
    return response.content


async def test_awkward_values_render_as_pydantic_does(
    client: httpx.AsyncClient,
    session: AsyncSession,
    headers: dict[str, str],
    organization: Organization,
) -> None:
    customer = await create_customer(
        session,
        organization=organization,
        name='Zoë "quoted" \\ \u2028',
        metadata={"seats": 3, "ratio": 0.5, "vip": True, "note": 'naïve, "x"', "n": -1},
    )
    meter = await create_meter(session, organization=organization)
    product = await create_product(session, organization=organization)
    for index, units in enumerate(AWKWARD_FLOATS):
        subscription = await create_subscription(
            session,
            customer=customer,
            product=product,
            prices=[] if index % 2 else None,  # no price: `price_id` null
            status="trialing" if index % 3 == 0 else "active",
            created_at=ROUND + timedelta(minutes=index),
            current_period_start=FRACTION if index % 2 else ROUND,
            current_period_end=None if index == 4 else ROUND + timedelta(days=30),
            trial_start=FRACTION if index % 3 == 0 else None,
            cancel_at_period_end=index % 2 == 0,
            canceled_at=ROUND if index % 2 == 0 else None,
            seats=index or None,
            # Stored documents keep their numbers as written (kit/sql_json.py): none in exponent
            # notation here.
            user_metadata={"i": index, "f": index / 4, "b": index % 2 == 0, "s": "é"},
            custom_field_data={"when": "2025-01-01T00:00:00Z", "count": index, "ok": True},
        )
        await create_subscription_meter(
            session,
            subscription=subscription,
            meter=meter,
            consumed_units=units,
            credited_units=index,
            amount=index * 100,
        )
        await create_customer_meter(
            session,
            customer=customer,
            meter=await create_meter(session, organization=organization, name=f"m{index}"),
            consumed_units=units,
            credited_units=index,
            created_at=FRACTION + timedelta(seconds=index),
        )
    license_keys = await create_benefit(
        session, organization=organization, type="license_keys", metadata={"tier": 2, "x": 1.5}
    )
    discord = await create_benefit(session, organization=organization, type="discord")
    downloadables = await create_benefit(session, organization=organization, type="downloadables")
    custom = await create_benefit(session, organization=organization, type="custom")
    grants: list[tuple[Any, dict[str, Any]]] = [
        # Stored in another order than shown, with keys the state leaves out.
        (license_keys, {"display_key": "****-AB", "secret": "x", "license_key_id": "k1"}),
        (discord, {"role_id": "r", "account_id": None, "guild_id": "g", "token": "t"}),
        (downloadables, {"files": ["a", "b"], "other": {"deep": [1, True, None]}}),
        (custom, {"note": "not shown"}),
    ]
    for benefit, properties in grants:
        await create_benefit_grant(
            session, customer=customer, benefit=benefit, properties=properties
        )
    await session.commit()

    body = await _state(client, customer, headers)
    assert body == _pydantic_json(body)
    state = CustomerState.model_validate_json(body, by_name=True)
    assert len(state.active_subscriptions) == len(AWKWARD_FLOATS)
    assert [meter.consumed_units for meter in state.active_meters] == AWKWARD_FLOATS
    assert [sub.meters[0].consumed_units for sub in state.active_subscriptions] == AWKWARD_FLOATS
    shown = {grant.benefit_type: grant.properties for grant in state.granted_benefits}
    assert shown == {
        "license_keys": {"license_key_id": "k1", "display_key": "****-AB"},
        "discord": {"account_id": None, "guild_id": "g", "role_id": "r"},
        "downloadables": {"files": ["a", "b"]},
        "custom": {},
    }
    assert b'"properties":{"license_key_id":"k1","display_key":"****-AB"}' in body


async def test_empty_state_renders_as_pydantic_does(
    client: httpx.AsyncClient,
    session: AsyncSession,
    headers: dict[str, str],
    organization: Organization,
) -> None:
    customer = await create_customer(session, organization=organization, email=None)
    await session.commit()
    body = await _state(client, customer, headers)
    assert body == _pydantic_json(body)
    assert b'"active_subscriptions":[],"granted_benefits":[],"active_meters":[]' in body


async def test_properties_that_are_not_an_object_show_as_empty(
    client: httpx.AsyncClient,
    session: AsyncSession,
    headers: dict[str, str],
    organization: Organization,
    customer: Customer,
) -> None:
    benefit = await create_benefit(session, organization=organization, type="license_keys")
    grant = await create_benefit_grant(session, customer=customer, benefit=benefit)
    grant.properties = ["license_key_id"]  # type: ignore[assignment]
    await session.commit()
    body = await _state(client, customer, headers)
    assert b'"properties":{}' in body
    assert body == _pydantic_json(body)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (None, None),
        (3, "3.0"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1e20, "1e20"),
        (1e-5, "0.00001"),
        (float("inf"), "null"),
        (float("nan"), "null"),
    ],
)
def test_sqlite_float_function(value: float | None, written: str | None) -> None:
    assert sqlite_json_float(value) == written


async def test_plain_documents_render_as_pydantic_does(
    client: httpx.AsyncClient,
    session: AsyncSession,
    headers: dict[str, str],
    organization: Organization,
    customer: Customer,
) -> None:
    """Without stored documents or exponents, PostgreSQL's text is used as it comes."""
    meter = await create_meter(session, organization=organization)
    subscription = await create_subscription(session, customer=customer, created_at=FRACTION)
    await create_subscription_meter(
        session, subscription=subscription, meter=meter, consumed_units=2.5, credited_units=1
    )
    await create_customer_meter(session, customer=customer, meter=meter, consumed_units=7)
    benefit = await create_benefit(session, organization=organization)
    await create_benefit_grant(session, customer=customer, benefit=benefit)
    await session.commit()
    body = await _state(client, customer, headers)
    assert body == _pydantic_json(body)
    assert b'"consumed_units":2.5,"credited_units":1' in body
    assert b'"consumed_units":7.0' in body
