"""The official client (`polar-sdk==0.27.1`) against the real server: benefits (create, list,
get, update, delete), their grants and the benefit grants list, each test in its own
organization."""

import json
import uuid
from dataclasses import dataclass
from typing import Any, cast

import pytest
from polar_sdk import models
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from polar_customers.benefits import service as benefits_service
from polar_customers.kit.time import utc_now
from polar_customers.models import Organization
from polar_customers.organizations import repository as organizations_repository
from tests import factories
from tests.server.sdk_support import assert_not_found, validation_errors
from tests.server.support import ALL_SCOPES, Api, ApiFactory, Tenant, new_tenant

pytestmark = pytest.mark.server


@pytest.fixture
async def benefits_tenant(
    seed_sessions: async_sessionmaker[AsyncSession], live_server: str
) -> Tenant:
    """A fresh organization with a token of every scope."""
    return await new_tenant(seed_sessions, "Benefits", scopes=ALL_SCOPES)


@pytest.fixture
def api(benefits_tenant: Tenant, api_factory: ApiFactory) -> Api:
    return api_factory(benefits_tenant.token)


async def _organization(session: AsyncSession, tenant: Tenant) -> Organization:
    organization = await organizations_repository.get_organization(
        session, uuid.UUID(tenant.organization_id)
    )
    assert organization is not None
    return organization


@pytest.fixture
async def meter_id(seed_sessions: async_sessionmaker[AsyncSession], benefits_tenant: Tenant) -> str:
    async with seed_sessions() as session, session.begin():
        organization = await _organization(session, benefits_tenant)
        return str((await factories.create_meter(session, organization=organization)).id)


def create(api: Api, request: dict[str, Any]) -> models.Benefit:
    benefit = api.polar.benefits.create(request=cast(models.BenefitCreateTypedDict, request))
    assert api.last.status_code == 201
    return benefit


def create_custom(api: Api, description: str = "Priority support", **fields: Any) -> models.Benefit:
    return create(api, {"type": "custom", "description": description, "properties": {}, **fields})


def test_custom_create_get_update_delete(api: Api) -> None:
    created = create_custom(
        api, properties={"note": "Mail us"}, metadata={"tier": "gold", "seats": 3}
    )
    assert isinstance(created, models.BenefitCustom)
    assert created.properties.note == "Mail us"
    assert (created.selectable, created.deletable, created.modified_at) == (True, True, None)
    assert created.metadata == {"tier": "gold", "seats": 3}

    assert api.polar.benefits.get(id=created.id) == created

    updated = api.polar.benefits.update(
        id=created.id,
        request_body={
            "type": "custom",
            "description": "Faster support",
            "properties": {"note": None},
        },
    )
    assert isinstance(updated, models.BenefitCustom)
    assert (updated.description, updated.properties.note) == ("Faster support", None)
    assert updated.modified_at is not None

    api.polar.benefits.delete(id=created.id)
    assert api.last.status_code == 204
    assert_not_found(lambda: api.polar.benefits.get(id=created.id))


def test_license_keys_and_meter_credit(api: Api, meter_id: str) -> None:
    keys = create(
        api,
        {
            "type": "license_keys",
            "description": "App license",
            "properties": {
                "prefix": "APP",
                "expires": {"ttl": 2, "timeframe": "year"},
                "activations": {"limit": 3, "enable_customer_admin": True},
                "limit_usage": 10,
            },
        },
    )
    assert isinstance(keys, models.BenefitLicenseKeys)
    assert keys.properties.prefix == "APP"
    assert keys.properties.expires is not None
    assert keys.properties.expires.ttl == 2
    assert keys.properties.activations is not None
    assert keys.properties.activations.limit == 3
    credit = api.polar.benefits.create(
        request={
            "type": "meter_credit",
            "description": "API credits",
            "properties": {"units": 500, "rollover": True, "meter_id": meter_id},
        }
    )
    assert isinstance(credit, models.BenefitMeterCredit)
    assert (credit.properties.units, credit.properties.rollover) == (500, True)
    assert credit.properties.meter_id == meter_id

    with pytest.raises(models.HTTPValidationError) as caught:
        api.polar.benefits.create(
            request={
                "type": "meter_credit",
                "description": "API credits",
                "properties": {"units": 5, "rollover": False, "meter_id": str(uuid.uuid4())},
            }
        )
    [error] = validation_errors(caught.value)
    assert (error["loc"], error["msg"]) == (
        ["body", "properties", "meter_id"],
        "This meter does not exist.",
    )


def test_refused_type(api: Api) -> None:
    with pytest.raises(models.HTTPValidationError) as caught:
        create(
            api,
            {
                "type": "github_repository",
                "description": "Repo access",
                "properties": {
                    "repository_owner": "acme",
                    "repository_name": "app",
                    "permission": "pull",
                },
            },
        )
    [error] = validation_errors(caught.value)
    assert error["loc"] == ["body", "type"]
    assert "Supported types: custom, license_keys, meter_credit." in error["msg"]


def test_list(api: Api) -> None:
    support = create_custom(api, "Priority support", metadata={"tier": "gold"})
    stickers = create_custom(api, "Stickers")
    page = api.polar.benefits.list()
    assert page is not None
    assert page.result.pagination.total_count == 2
    assert [benefit.id for benefit in page.result.items] == [stickers.id, support.id]
    found = api.polar.benefits.list(query="STICK")
    assert found is not None
    assert [benefit.id for benefit in found.result.items] == [stickers.id]
    found = api.polar.benefits.list(metadata={"tier": "gold"})
    assert found is not None
    assert [benefit.id for benefit in found.result.items] == [support.id]
    found = api.polar.benefits.list(type_filter=models.BenefitType.LICENSE_KEYS)
    assert found is not None
    assert found.result.items == []
    found = api.polar.benefits.list(sorting=[models.BenefitSortProperty.DESCRIPTION], limit=1)
    assert found is not None
    assert [benefit.id for benefit in found.result.items] == [support.id]
    assert found.result.pagination.max_page == 2


@pytest.fixture
async def other_api(
    seed_sessions: async_sessionmaker[AsyncSession], api_factory: ApiFactory, live_server: str
) -> Api:
    """The client of another organization, with every scope."""
    return api_factory((await new_tenant(seed_sessions, "Other", scopes=ALL_SCOPES)).token)


def test_foreign_benefits_are_not_found(api: Api, other_api: Api) -> None:
    created = create_custom(api)
    assert_not_found(lambda: other_api.polar.benefits.get(id=created.id))
    assert_not_found(
        lambda: other_api.polar.benefits.update(id=created.id, request_body={"type": "custom"})
    )
    assert_not_found(lambda: other_api.polar.benefits.delete(id=created.id))
    assert_not_found(lambda: other_api.polar.benefits.grants(id=created.id))
    page = other_api.polar.benefits.list()
    assert page is not None
    assert page.result.items == []


def test_customer_scopes_are_not_enough(api: Api, api_factory: ApiFactory, tenant: Tenant) -> None:
    customers_only = api_factory(tenant.token)
    with pytest.raises(models.SDKError) as caught:
        customers_only.polar.benefits.list()
    assert caught.value.status_code == 403


@dataclass(frozen=True)
class Granted:
    customer_id: str
    benefit_ids: dict[str, str]


@pytest.fixture
async def granted(
    seed_sessions: async_sessionmaker[AsyncSession], benefits_tenant: Tenant
) -> Granted:
    """A customer's subscription granted a license key benefit and a custom one, committed."""
    async with seed_sessions() as session, session.begin():
        organization = await _organization(session, benefits_tenant)
        customer = await factories.create_customer(session, organization=organization)
        subscription = await factories.create_subscription(session, customer=customer)
        benefits = {
            "license_keys": await factories.create_benefit_with_properties(
                session, organization=organization, type="license_keys", properties={"prefix": "K"}
            ),
            "custom": await factories.create_benefit_with_properties(
                session, organization=organization
            ),
        }
        await benefits_service.grant_subscription_benefits(
            session,
            subscription=subscription,
            benefit_ids=[benefit.id for benefit in benefits.values()],
            now=utc_now(),
        )
        return Granted(str(customer.id), {type: str(b.id) for type, b in benefits.items()})


def test_benefit_grants(api: Api, granted: Granted) -> None:
    page = api.polar.benefits.grants(id=granted.benefit_ids["license_keys"])
    assert page is not None
    [grant] = page.result.items
    assert (grant.is_granted, grant.is_revoked, grant.customer_id) == (
        True,
        False,
        granted.customer_id,
    )
    assert grant.customer.id == granted.customer_id
    assert isinstance(grant.benefit, models.BenefitLicenseKeys)
    assert isinstance(grant.properties, models.BenefitGrantLicenseKeysProperties)
    assert grant.properties.display_key is not None
    assert grant.properties.display_key.startswith("****-")
    revoked = api.polar.benefits.grants(id=granted.benefit_ids["custom"], is_granted=False)
    assert revoked is not None
    assert revoked.result.items == []
    mine = api.polar.benefits.grants(
        id=granted.benefit_ids["custom"], customer_id=granted.customer_id
    )
    assert mine is not None
    assert len(mine.result.items) == 1


def test_benefit_grants_list(api: Api, granted: Granted) -> None:
    page = api.polar.benefit_grants.list(
        customer_id=granted.customer_id, sorting=[models.BenefitGrantSortProperty.GRANTED_AT]
    )
    assert page is not None
    assert page.result.pagination.total_count == 2
    assert {grant.benefit_id for grant in page.result.items} == set(granted.benefit_ids.values())
    by_benefit = {item["benefit_id"]: item for item in api.last.json()["items"]}
    assert by_benefit[granted.benefit_ids["custom"]]["properties"] == {}
    keys = by_benefit[granted.benefit_ids["license_keys"]]["properties"]
    assert list(keys) == ["license_key_id", "display_key"]
    api.polar.benefits.delete(id=granted.benefit_ids["custom"])
    page = api.polar.benefit_grants.list(is_granted=False)
    assert page is not None
    [revoked] = page.result.items
    assert (revoked.benefit_id, revoked.is_revoked) == (granted.benefit_ids["custom"], True)
    assert json.loads(api.last.text)["items"][0]["benefit"]["id"] == granted.benefit_ids["custom"]
