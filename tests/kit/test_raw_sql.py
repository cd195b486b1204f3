"""Raw queries: rows as a Core query returns them, on the test engine's driver connection."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from polar_customers.kit.raw_sql import RawQuery, attribute_columns, borrow
from polar_customers.models import Customer, CustomerMeter, Meter
from tests.factories import create_customer, create_meter, create_organization

_CUSTOMER = RawQuery(select(*attribute_columns(Customer)).where(Customer.id == bindparam("id")))


async def test_values_as_core_returns_them(
    session: AsyncSession, connection: AsyncConnection
) -> None:
    organization = await create_organization(session)
    customer = await create_customer(
        session,
        organization=organization,
        external_id="ext-1",
        metadata={"plan": "pro", "seats": 3, "ratio": 0.5, "vip": True},
        created_at=datetime(2025, 10, 5, 12, 0, 0, 123456, tzinfo=UTC),
        tax_id=["911144442", "us_ein"],
    )
    await session.commit()
    core = (await connection.execute(_CUSTOMER.statement, {"id": customer.id})).mappings().one()

    [raw] = await (await borrow(connection)).fetch_mappings(_CUSTOMER, id=customer.id)

    assert raw == dict(core)
    assert raw["created_at"] == datetime(2025, 10, 5, 12, 0, 0, 123456, tzinfo=UTC)
    assert raw["user_metadata"] == {"plan": "pro", "seats": 3, "ratio": 0.5, "vip": True}
    assert raw["email_verified"] is False


async def test_numeric_columns_are_floats(
    session: AsyncSession, connection: AsyncConnection
) -> None:
    organization = await create_organization(session)
    customer = await create_customer(session, organization=organization)
    meter: Meter = await create_meter(session, organization=organization)
    session.add(
        CustomerMeter(
            organization_id=organization.id,
            customer_id=customer.id,
            meter_id=meter.id,
            consumed_units=2.5,
            credited_units=10,
            balance=7.5,
        )
    )
    await session.commit()
    query = RawQuery(
        select(CustomerMeter.consumed_units, CustomerMeter.balance).where(
            CustomerMeter.customer_id == bindparam("customer_id")
        )
    )

    rows = await (await borrow(connection)).fetch(query, customer_id=customer.id)

    assert rows == [(2.5, 7.5)]
    assert all(type(value) is float for value in rows[0])


@pytest.mark.parametrize("count", [0, 1, 3])
async def test_expanding_in_per_list_length(
    session: AsyncSession, connection: AsyncConnection, count: int
) -> None:
    organizations = [await create_organization(session) for _ in range(3)]
    customers = [
        await create_customer(session, organization=organization) for organization in organizations
    ]
    await session.commit()
    query = RawQuery(
        select(Customer.id)
        .where(Customer.organization_id.in_(bindparam("ids", expanding=True)))
        .where(Customer.email != bindparam("email"))
        .order_by(Customer.id)
    )
    ids = [organization.id for organization in organizations[:count]]
    raw = await borrow(connection)

    rows = await raw.fetch(query, ids=ids, email="nobody@example.com")
    again = await raw.fetch(query, ids=ids, email="nobody@example.com")  # compiled, reused

    core = await connection.execute(query.statement, {"ids": ids, "email": "nobody@example.com"})
    assert rows == again == [tuple(row) for row in core]
    assert len(rows) == count
    assert {row[0] for row in rows} == {customer.id for customer in customers[:count]}
