"""What the products domain gives the others: purchasable products, detaching a benefit,
batched loads and their rendering."""

import uuid
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from polar_customers.kit.raw_sql import RawConnection, RawQuery, borrow
from polar_customers.kit.versions import ApiVersion
from polar_customers.models import Meter, Organization, Product
from polar_customers.products import render, service
from polar_customers.products.repository import load_products
from tests.factories import create_benefit_with_properties
from tests.products.conftest import FIXED, FREE, CreateProduct, metered, product_url


class CountingConnection(RawConnection):
    """A raw connection that counts its queries."""

    def __init__(self, connection: RawConnection) -> None:
        super().__init__(connection._driver, connection._dialect)
        self.queries = 0

    async def fetch(self, query: RawQuery, **parameters: Any) -> list[tuple[Any, ...]]:
        self.queries += 1
        return await super().fetch(query, **parameters)


async def attach(
    client: httpx.AsyncClient, headers: dict[str, str], product: dict[str, Any], ids: list[str]
) -> None:
    response = await client.post(
        f"{product_url(product)}/benefits", json={"benefits": ids}, headers=headers
    )
    assert response.status_code == 200, response.text


class TestGetPurchasable:
    async def test_live_prices_and_benefits_in_order(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        create_product: CreateProduct,
        meter: Meter,
    ) -> None:
        product = await create_product(prices=[FIXED, metered(meter)])
        usage = product["prices"][1]
        await client.patch(
            product_url(product),
            json={"prices": [{"id": usage["id"]}, FREE], "is_archived": True},
            headers=headers,
        )
        first = await create_benefit_with_properties(session, organization=organization)
        second = await create_benefit_with_properties(session, organization=organization)
        await attach(client, headers, product, [str(second.id), str(first.id)])
        found = await service.get_purchasable(
            session, organization_id=organization.id, product_id=uuid.UUID(product["id"])
        )
        assert found is not None
        assert isinstance(found.product, Product)
        assert found.product.is_archived is True
        assert [(price.amount_type, price.is_archived) for price in found.prices] == [
            ("free", False),
            ("metered_unit", False),
        ]
        assert str(found.prices[1].id) == usage["id"]
        assert found.benefit_ids == [second.id, first.id]

    async def test_other_organization_or_unknown(
        self,
        session: AsyncSession,
        other_organization: Organization,
        organization: Organization,
        create_product: CreateProduct,
    ) -> None:
        product = await create_product()
        for organization_id, product_id in [
            (other_organization.id, uuid.UUID(product["id"])),
            (organization.id, uuid.uuid4()),
        ]:
            found = await service.get_purchasable(
                session, organization_id=organization_id, product_id=product_id
            )
            assert found is None


class TestDetachBenefit:
    async def test_removed_from_every_product(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        create_product: CreateProduct,
    ) -> None:
        kept = await create_benefit_with_properties(session, organization=organization)
        gone = await create_benefit_with_properties(session, organization=organization)
        first, second, third = [await create_product(name=f"Plan {n}") for n in range(3)]
        await attach(client, headers, first, [str(gone.id), str(kept.id)])
        await attach(client, headers, second, [str(gone.id)])
        await attach(client, headers, third, [str(kept.id)])
        detached = await service.detach_benefit(
            session, organization_id=organization.id, benefit_id=gone.id
        )
        assert sorted(detached) == sorted([uuid.UUID(first["id"]), uuid.UUID(second["id"])])
        for product, expected in [(first, [kept.id]), (second, []), (third, [kept.id])]:
            response = await client.get(product_url(product), headers=headers)
            assert [benefit["id"] for benefit in response.json()["benefits"]] == [
                str(id) for id in expected
            ]

    async def test_other_organization(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        other_organization: Organization,
        create_product: CreateProduct,
    ) -> None:
        benefit = await create_benefit_with_properties(session, organization=organization)
        product = await create_product()
        await attach(client, headers, product, [str(benefit.id)])
        detached = await service.detach_benefit(
            session, organization_id=other_organization.id, benefit_id=benefit.id
        )
        assert detached == []
        response = await client.get(product_url(product), headers=headers)
        assert len(response.json()["benefits"]) == 1


class TestLoadProducts:
    async def test_two_queries_and_the_rendering_of_get(
        self,
        client: httpx.AsyncClient,
        connection: AsyncConnection,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        create_product: CreateProduct,
        meter: Meter,
    ) -> None:
        benefit = await create_benefit_with_properties(session, organization=organization)
        products = [
            await create_product(name="Fixed"),
            await create_product(name="Usage", prices=[FREE, metered(meter)]),
            await create_product(name="Once", prices=[FREE], recurring_interval=None),
        ]
        await attach(client, headers, products[0], [str(benefit.id)])
        raw = CountingConnection(await borrow(connection))
        ids = [uuid.UUID(product["id"]) for product in products]
        loaded = await load_products(raw, organization.id, [*ids, uuid.uuid4()])
        assert raw.queries == 2
        assert list(loaded) == sorted(ids)
        for product in products:
            get = await client.get(product_url(product), headers=headers)
            rendered = render.product(loaded[uuid.UUID(product["id"])], ApiVersion.v2025_10)
            assert rendered.model_dump(mode="json") == get.json()

    async def test_other_organization_and_no_ids(
        self,
        connection: AsyncConnection,
        other_organization: Organization,
        create_product: CreateProduct,
    ) -> None:
        product = await create_product()
        raw = CountingConnection(await borrow(connection))
        assert await load_products(raw, other_organization.id, [uuid.UUID(product["id"])]) == {}
        assert await load_products(raw, other_organization.id, []) == {}
        assert raw.queries == 1
