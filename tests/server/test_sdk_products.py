"""The official client (`polar-sdk==0.27.1`) against the real server: products (create, list,
get, update, update benefits), in each test's own organization, with meters and benefits
seeded directly."""

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import pytest
from polar_sdk import models
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from polar_customers.organizations import repository as organizations_repository
from tests import factories
from tests.server.sdk_support import INSUFFICIENT_SCOPE, assert_not_found, validation_errors
from tests.server.support import ALL_SCOPES, Api, ApiFactory, Tenant, new_tenant

pytestmark = pytest.mark.server


FIXED_PRICES = (models.ProductPriceFixed, models.LegacyRecurringProductPriceFixed)


@dataclass(frozen=True)
class Seeded:
    """A meter and three benefits of the tenant (custom, license keys, meter credit)."""

    meter_id: str
    benefit_ids: tuple[str, str, str]


@pytest.fixture
async def products_tenant(
    seed_sessions: async_sessionmaker[AsyncSession], live_server: str
) -> Tenant:
    return await new_tenant(seed_sessions, "Products", scopes=ALL_SCOPES)


@pytest.fixture
def products_api(products_tenant: Tenant, api_factory: ApiFactory) -> Api:
    return api_factory(products_tenant.token)


@pytest.fixture
async def seeded(
    seed_sessions: async_sessionmaker[AsyncSession], products_tenant: Tenant
) -> Seeded:
    async with seed_sessions() as session, session.begin():
        organization = await organizations_repository.get_organization(
            session, uuid.UUID(products_tenant.organization_id)
        )
        assert organization is not None
        meter = await factories.create_meter(session, organization=organization, name="Tokens")
        license_keys = {"prefix": "PRO", "expires": None, "activations": None, "limit_usage": None}
        credit = {"units": 100, "rollover": True, "meter_id": str(meter.id)}
        benefits = [
            await factories.create_benefit_with_properties(session, organization=organization),
            await factories.create_benefit_with_properties(
                session, organization=organization, type="license_keys", properties=license_keys
            ),
            await factories.create_benefit_with_properties(
                session, organization=organization, type="meter_credit", properties=credit
            ),
        ]
        ids = tuple(str(benefit.id) for benefit in benefits)
        return Seeded(meter_id=str(meter.id), benefit_ids=cast(tuple[str, str, str], ids))


def create(api: Api, **body: Any) -> models.Product:
    request = cast(models.ProductCreateTypedDict, body)
    product = api.polar.products.create(request=request)
    assert api.last.status_code == 201
    return product


def monthly(api: Api, name: str = "Pro plan", **body: Any) -> models.Product:
    prices = body.pop("prices", [{"amount_type": "fixed", "price_amount": 1000}])
    return create(api, name=name, recurring_interval="month", prices=prices, **body)


def listed(api: Api, **params: Any) -> list[str]:
    page = api.polar.products.list(**params)
    assert page is not None
    return [product.name for product in page.result.items]


def test_create_recurring_with_fixed_and_metered_prices(products_api: Api, seeded: Seeded) -> None:
    metered = {
        "amount_type": "metered_unit",
        "meter_id": seeded.meter_id,
        "unit_amount": "0.05",
        "cap_amount": 10_000,
    }
    product = monthly(
        products_api,
        prices=[{"amount_type": "fixed", "price_amount": 2500}, metered],
        metadata={"tier": "pro"},
        trial_interval="week",
        trial_interval_count=1,
    )
    assert (product.name, product.recurring_interval, product.is_recurring) == (
        "Pro plan",
        "month",
        True,
    )
    assert (product.trial_interval, product.trial_interval_count) == ("week", 1)
    assert product.metadata == {"tier": "pro"}
    fixed, usage = product.prices
    # The client reads a recurring fixed price (as Polar also writes it) as its legacy shape.
    assert isinstance(fixed, FIXED_PRICES)
    assert (fixed.price_amount, fixed.price_currency) == (2500, "usd")
    assert products_api.last.json()["prices"][0]["type"] == "recurring"
    assert isinstance(usage, models.ProductPriceMeteredUnit)
    assert (usage.unit_amount, usage.cap_amount) == ("0.050000000000", 10_000)
    assert (usage.meter.id, usage.meter.name) == (seeded.meter_id, "Tokens")
    assert (product.benefits, product.medias, product.attached_custom_fields) == ([], [], [])


def test_create_one_time_free_and_get(products_api: Api) -> None:
    product = create(products_api, name="Free e-book", prices=[{"amount_type": "free"}])
    assert (product.recurring_interval, product.is_recurring) == (None, False)
    [price] = product.prices
    assert isinstance(price, models.ProductPriceFree)
    assert price.type == "one_time"
    body = products_api.last.json()
    fetched = products_api.polar.products.get(id=product.id)
    assert products_api.last.status_code == 200
    assert fetched == product
    assert products_api.last.json() == body


def test_create_validation_errors(products_api: Api) -> None:
    with pytest.raises(models.HTTPValidationError) as caught:
        monthly(products_api, name="ab")
    [error] = validation_errors(caught.value)
    assert (error["loc"], error["type"]) == (["body", "name"], "string_too_short")
    custom = {"amount_type": "custom", "minimum_amount": 500}
    with pytest.raises(models.HTTPValidationError) as caught:
        monthly(products_api, prices=[custom])
    [error] = validation_errors(caught.value)
    assert error["loc"] == ["body", "prices", 0, "amount_type"]
    assert "fixed, free, metered_unit" in error["msg"]


def test_list_filters_sorting_and_pages(products_api: Api) -> None:
    monthly(products_api, "Basic", prices=[{"amount_type": "fixed", "price_amount": 500}])
    monthly(products_api, "Team", prices=[{"amount_type": "fixed", "price_amount": 5000}])
    create(products_api, name="E-book", prices=[{"amount_type": "free"}], metadata={"k": "v"})
    assert listed(products_api) == ["E-book", "Team", "Basic"]
    assert listed(products_api, sorting=["-price_amount"]) == ["E-book", "Team", "Basic"]
    assert listed(products_api, sorting=["name"]) == ["Basic", "E-book", "Team"]
    assert listed(products_api, is_recurring=False) == ["E-book"]
    assert listed(products_api, query="EA") == ["Team"]
    assert listed(products_api, metadata={"k": "v"}) == ["E-book"]
    page = products_api.polar.products.list(limit=2, page=2)
    assert page is not None
    assert page.result.pagination.total_count == 3
    assert page.result.pagination.max_page == 2
    assert [product.name for product in page.result.items] == ["Basic"]


def test_update_prices_and_archive(products_api: Api) -> None:
    product = monthly(products_api)
    [old] = product.prices
    updated = products_api.polar.products.update(
        id=product.id,
        product_update={
            "name": "Pro plan 2",
            "prices": [{"amount_type": "fixed", "price_amount": 1200}],
            "is_archived": True,
        },
    )
    assert products_api.last.status_code == 200
    [new] = updated.prices
    assert isinstance(new, FIXED_PRICES)
    assert new.id != old.id
    assert (updated.name, updated.is_archived, new.price_amount) == ("Pro plan 2", True, 1200)
    kept = products_api.polar.products.update(
        id=product.id,
        product_update=models.ProductUpdate(
            prices=[models.ExistingProductPrice(id=new.id)], is_archived=False
        ),
    )
    assert kept.prices == [new]
    assert kept.is_archived is False
    assert listed(products_api, is_archived=True) == []


def test_update_benefits(products_api: Api, seeded: Seeded) -> None:
    product = monthly(products_api)
    custom, keys, credit = seeded.benefit_ids
    updated = products_api.polar.products.update_benefits(
        id=product.id, product_benefits_update={"benefits": [credit, custom, keys]}
    )
    assert products_api.last.status_code == 200
    assert [type(benefit) for benefit in updated.benefits] == [
        models.BenefitMeterCredit,
        models.BenefitCustom,
        models.BenefitLicenseKeys,
    ]
    assert [benefit.id for benefit in updated.benefits] == [credit, custom, keys]
    assert listed(products_api, benefit_id=keys) == ["Pro plan"]
    removed = products_api.polar.products.update_benefits(
        id=product.id, product_benefits_update={"benefits": [keys]}
    )
    assert [benefit.id for benefit in removed.benefits] == [keys]
    with pytest.raises(models.HTTPValidationError) as caught:
        products_api.polar.products.update_benefits(
            id=product.id, product_benefits_update={"benefits": [str(uuid.uuid4())]}
        )
    [error] = validation_errors(caught.value)
    assert (error["loc"], error["msg"]) == (["body", "benefits", 0], "Benefit does not exist.")


async def test_other_organization_products_are_not_found(
    products_api: Api, api_factory: ApiFactory, seed_sessions: async_sessionmaker[AsyncSession]
) -> None:
    product = monthly(products_api)
    other_tenant = await new_tenant(seed_sessions, "Other products", scopes=ALL_SCOPES)
    other = api_factory(other_tenant.token)
    assert_not_found(lambda: other.polar.products.get(id=product.id))
    assert_not_found(
        lambda: other.polar.products.update(id=product.id, product_update={"name": "Mine"})
    )
    assert_not_found(
        lambda: other.polar.products.update_benefits(
            id=product.id, product_benefits_update={"benefits": []}
        )
    )
    assert listed(other) == []
    assert products_api.polar.products.get(id=product.id) == product


def test_customer_scopes_do_not_reach_products(api: Api) -> None:
    calls: list[Callable[[], object]] = [
        lambda: api.polar.products.list(),
        lambda: api.polar.products.get(id=str(uuid.uuid4())),
        lambda: monthly(api),
    ]
    for call in calls:
        with pytest.raises(models.SDKError) as caught:
            call()
        assert caught.value.status_code == 403
        assert json.loads(caught.value.body) == INSUFFICIENT_SCOPE
