"""POST /v1/products/{id}/benefits"""

import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.scopes import Scope
from polar_customers.kit.time import utc_now
from polar_customers.models import Benefit, Organization
from polar_customers.subscriptions import service as subscriptions_service
from tests.factories import (
    bearer,
    create_benefit_with_properties,
    create_organization_token,
    create_personal_token,
    create_user,
)
from tests.products.conftest import CreateProduct, errors, product_url

BENEFIT_KEYS = [
    "id",
    "created_at",
    "modified_at",
    "type",
    "description",
    "selectable",
    "deletable",
    "organization_id",
    "metadata",
    "properties",
]
Changes = list[dict[str, Any]]


async def set_benefits(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    product: dict[str, Any],
    benefits: list[Any],
) -> httpx.Response:
    ids = [str(benefit.id) if isinstance(benefit, Benefit) else benefit for benefit in benefits]
    return await client.post(
        f"{product_url(product)}/benefits", json={"benefits": ids}, headers=headers
    )


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [benefit["id"] for benefit in response.json()["benefits"]]


@pytest.fixture
async def benefits(session: AsyncSession, organization: Organization) -> list[Benefit]:
    """A custom benefit, a license keys benefit and a meter credit benefit."""
    license_keys = {"prefix": "PRO", "expires": None, "activations": None, "limit_usage": None}
    meter_credit = {"units": 100, "rollover": False, "meter_id": str(uuid.uuid4())}
    return [
        await create_benefit_with_properties(
            session, organization=organization, properties={"note": "Welcome"}
        ),
        await create_benefit_with_properties(
            session, organization=organization, type="license_keys", properties=license_keys
        ),
        await create_benefit_with_properties(
            session, organization=organization, type="meter_credit", properties=meter_credit
        ),
    ]


@pytest.fixture
def changes(monkeypatch: pytest.MonkeyPatch) -> Changes:
    """What the products service tells the subscriptions service, call by call."""
    calls: Changes = []

    async def record(_session: AsyncSession, **arguments: Any) -> None:
        calls.append(arguments)

    monkeypatch.setattr(subscriptions_service, "product_benefits_changed", record)
    return calls


class TestUpdateBenefits:
    async def test_attach_in_order(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        create_product: CreateProduct,
        benefits: list[Benefit],
        organization: Organization,
        changes: Changes,
    ) -> None:
        product = await create_product()
        custom, keys, credit = benefits
        response = await set_benefits(client, headers, product, [keys, custom, credit])
        assert ids(response) == [str(keys.id), str(custom.id), str(credit.id)]
        rendered = response.json()["benefits"][0]
        assert list(rendered) == BENEFIT_KEYS
        assert (rendered["type"], rendered["description"], rendered["properties"]) == (
            "license_keys",
            "A license_keys benefit",
            {"prefix": "PRO", "expires": None, "activations": None, "limit_usage": None},
        )
        assert (rendered["selectable"], rendered["deletable"], rendered["metadata"]) == (
            True,
            True,
            {},
        )
        assert rendered["organization_id"] == str(organization.id)
        assert response.json()["benefits"][1]["properties"] == {"note": "Welcome"}
        assert (await client.get(product_url(product), headers=headers)).json() == response.json()
        [change] = changes
        assert change["organization_id"] == organization.id
        assert change["product_id"] == uuid.UUID(product["id"])
        assert (change["added"], change["removed"]) == ([keys.id, custom.id, credit.id], [])
        assert isinstance(change["now"], datetime)

    async def test_reorder_and_replace(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        create_product: CreateProduct,
        benefits: list[Benefit],
        changes: Changes,
    ) -> None:
        product = await create_product()
        custom, keys, credit = benefits
        await set_benefits(client, headers, product, [custom, keys])
        reordered = await set_benefits(client, headers, product, [keys, custom])
        assert ids(reordered) == [str(keys.id), str(custom.id)]
        replaced = await set_benefits(client, headers, product, [credit, keys])
        assert ids(replaced) == [str(credit.id), str(keys.id)]
        assert [(change["added"], change["removed"]) for change in changes] == [
            ([custom.id, keys.id], []),
            ([], []),
            ([credit.id], [custom.id]),
        ]

    async def test_detach_all(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        create_product: CreateProduct,
        benefits: list[Benefit],
        changes: Changes,
    ) -> None:
        product = await create_product()
        await set_benefits(client, headers, product, benefits[:2])
        assert ids(await set_benefits(client, headers, product, [])) == []
        assert changes[-1]["removed"] == [benefits[0].id, benefits[1].id]

    async def test_invalid_benefits(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        create_product: CreateProduct,
        benefits: list[Benefit],
        other_organization: Organization,
        changes: Changes,
    ) -> None:
        product = await create_product()
        await set_benefits(client, headers, product, benefits[:1])
        foreign = await create_benefit_with_properties(session, organization=other_organization)
        deleted = benefits[1]
        deleted.deleted_at = utc_now()
        await session.flush()
        listed = [benefits[2], foreign, uuid.uuid4().hex, deleted, benefits[2]]
        response = await set_benefits(client, headers, product, listed)
        assert errors(response, "PolarRequestValidationError") == [
            (["body", "benefits", 1], "Benefit does not exist."),
            (["body", "benefits", 2], "Benefit does not exist."),
            (["body", "benefits", 3], "Benefit does not exist."),
            (["body", "benefits", 4], "Benefit is listed more than once."),
        ]
        current = await client.get(product_url(product), headers=headers)
        assert [benefit["id"] for benefit in current.json()["benefits"]] == [str(benefits[0].id)]
        assert len(changes) == 1

    async def test_benefit_of_another_organization_of_the_user(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        organization: Organization,
        other_organization: Organization,
        create_product: CreateProduct,
        changes: Changes,
    ) -> None:
        product = await create_product()
        foreign = await create_benefit_with_properties(session, organization=other_organization)
        user = await create_user(session, member_of=[organization, other_organization])
        token = await create_personal_token(session, user=user, scopes=[Scope.products_write])
        response = await set_benefits(client, bearer(token), product, [foreign])
        assert errors(response, "PolarRequestValidationError") == [
            (["body", "benefits", 0], "Benefit must be on the same organization as the product.")
        ]

    @pytest.mark.parametrize(
        ("body", "loc"),
        [
            ({}, ["body", "benefits"]),
            ({"benefits": ["nope"]}, ["body", "benefits", 0]),
            ({"benefits": None}, ["body", "benefits"]),
            ({"benefits": [str(uuid.uuid4())] * 101}, ["body", "benefits"]),
        ],
    )
    async def test_invalid_body(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        create_product: CreateProduct,
        body: dict[str, Any],
        loc: list[Any],
    ) -> None:
        product = await create_product()
        response = await client.post(f"{product_url(product)}/benefits", json=body, headers=headers)
        [(error_loc, _)] = errors(response, "RequestValidationError")
        assert error_loc == loc

    async def test_deleted_benefits_are_not_shown(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        create_product: CreateProduct,
        benefits: list[Benefit],
        changes: Changes,
    ) -> None:
        product = await create_product()
        await set_benefits(client, headers, product, benefits)
        benefits[0].deleted_at = utc_now()
        await session.flush()
        response = await client.get(product_url(product), headers=headers)
        assert ids(response) == [str(benefits[1].id), str(benefits[2].id)]

    async def test_anonymous_read_scope_and_not_found(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        create_product: CreateProduct,
    ) -> None:
        product = await create_product()
        url = f"{product_url(product)}/benefits"
        assert (await client.post(url, json={"benefits": []})).status_code == 401
        token = await create_organization_token(
            session, organization=organization, scopes=[Scope.products_read]
        )
        response = await client.post(url, json={"benefits": []}, headers=bearer(token))
        assert response.status_code == 403
        assert 'scope="products:write web:write"' in response.headers["www-authenticate"]
        unknown = await client.post(
            f"/v1/products/{uuid.uuid4()}/benefits", json={"benefits": []}, headers=headers
        )
        assert unknown.status_code == 404
