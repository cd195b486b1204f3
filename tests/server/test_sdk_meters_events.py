"""The official client (`polar-sdk==0.27.1`) against the real server: meters (create, list,
get, update, quantities), events (ingest, list, get, names) and customer meters (list, get),
in each test's own organization."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from polar_sdk import models
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.server.sdk_support import INSUFFICIENT_SCOPE, assert_not_found, validation_errors
from tests.server.support import ALL_SCOPES, Api, ApiFactory, Tenant, new_tenant

pytestmark = pytest.mark.server

HOUR = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=2)


@pytest.fixture
async def usage_tenant(seed_sessions: async_sessionmaker[AsyncSession], live_server: str) -> Tenant:
    return await new_tenant(seed_sessions, "Usage", scopes=ALL_SCOPES)


@pytest.fixture
def usage_api(usage_tenant: Tenant, api_factory: ApiFactory) -> Api:
    return api_factory(usage_tenant.token)


@pytest.fixture
async def stranger_api(
    seed_sessions: async_sessionmaker[AsyncSession], api_factory: ApiFactory
) -> Api:
    """The official client of another organization, with every scope."""
    return api_factory((await new_tenant(seed_sessions, "Stranger", scopes=ALL_SCOPES)).token)


@pytest.fixture
def customer(usage_api: Api) -> models.Customer:
    request = cast(
        models.CustomerCreateTypedDict, {"email": "usage@example.com", "external_id": "usr_u"}
    )
    return usage_api.polar.customers.create(request=request)


def create_meter(api: Api, name: str, aggregation: dict[str, Any]) -> models.Meter:
    request = cast(
        models.MeterCreateTypedDict,
        {
            "name": name,
            "filter": {
                "conjunction": "and",
                "clauses": [{"property": "name", "operator": "eq", "value": "completion"}],
            },
            "aggregation": aggregation,
            "metadata": {"team": "ai"},
        },
    )
    meter = api.polar.meters.create(request=request)
    assert api.last.status_code == 201
    return meter


def ingest(api: Api, customer: models.Customer) -> None:
    events: list[dict[str, Any]] = [
        {
            "name": "completion",
            "customer_id": customer.id,
            "timestamp": HOUR + timedelta(minutes=10),
            "metadata": {"tokens": 10, "model": "gpt-4"},
        },
        {
            "name": "completion",
            "external_customer_id": "usr_u",
            "timestamp": HOUR + timedelta(hours=1, minutes=5),
            "metadata": {"tokens": 5, "model": "gpt-3.5"},
        },
        {"name": "other", "customer_id": customer.id, "timestamp": HOUR},
    ]
    response = api.polar.events.ingest(
        request=cast(models.EventsIngestTypedDict, {"events": events})
    )
    assert response.inserted == 3


def test_meters(usage_api: Api, customer: models.Customer, stranger_api: Api) -> None:
    tokens = create_meter(usage_api, "Tokens", {"func": "sum", "property": "metadata.tokens"})
    models_used = create_meter(usage_api, "Models", {"func": "unique", "property": "model"})
    assert isinstance(tokens.aggregation, models.PropertyAggregation)
    assert tokens.aggregation.property == "tokens"
    assert isinstance(models_used.aggregation, models.UniqueAggregation)
    assert tokens.metadata == {"team": "ai"}
    assert usage_api.polar.meters.get(id=tokens.id) == tokens
    page = usage_api.polar.meters.list(sorting=[models.MeterSortProperty.NAME])
    assert page is not None
    assert [meter.name for meter in page.result.items] == ["Models", "Tokens"]
    updated = usage_api.polar.meters.update(
        id=models_used.id, meter_update={"name": "Distinct models", "is_archived": True}
    )
    assert (updated.name, updated.archived_at is not None) == ("Distinct models", True)
    page = usage_api.polar.meters.list(is_archived=False)
    assert page is not None
    assert [meter.id for meter in page.result.items] == [tokens.id]
    assert_not_found(lambda: stranger_api.polar.meters.get(id=tokens.id))


def test_meter_validation(usage_api: Api) -> None:
    deep: dict[str, Any] = {"conjunction": "and", "clauses": []}
    for _ in range(5):
        deep = {"conjunction": "or", "clauses": [deep]}
    request = cast(
        models.MeterCreateTypedDict,
        {"name": "ab", "filter": deep, "aggregation": {"func": "count"}},
    )
    with pytest.raises(models.HTTPValidationError) as caught:
        usage_api.polar.meters.create(request=request)
    locs = {tuple(item["loc"][:2]) for item in validation_errors(caught.value)}
    assert locs == {("body", "name"), ("body", "filter")}


def test_ingest_and_quantities(usage_api: Api, customer: models.Customer) -> None:
    tokens = create_meter(usage_api, "Tokens", {"func": "sum", "property": "tokens"})
    ingest(usage_api, customer)
    quantities = usage_api.polar.meters.quantities(
        id=tokens.id,
        start_timestamp=HOUR,
        end_timestamp=HOUR + timedelta(hours=2),
        interval=models.TimeInterval.HOUR,
    )
    assert [(q.timestamp, q.quantity) for q in quantities.quantities] == [
        (HOUR, 10),
        (HOUR + timedelta(hours=1), 5),
        (HOUR + timedelta(hours=2), 0),
    ]
    assert quantities.total == 15
    by_customer = usage_api.polar.meters.quantities(
        id=tokens.id,
        start_timestamp=HOUR,
        end_timestamp=HOUR,
        interval=models.TimeInterval.DAY,
        external_customer_id="usr_u",
        customer_aggregation_function=models.AggregationFunction.MAX,
    )
    assert by_customer.total == 15


def test_events(usage_api: Api, customer: models.Customer, stranger_api: Api) -> None:
    tokens = create_meter(usage_api, "Tokens", {"func": "sum", "property": "tokens"})
    ingest(usage_api, customer)
    page = usage_api.polar.events.list(meter_id=tokens.id)
    assert page is not None
    items = [item for item in page.result.items if isinstance(item, models.UserEvent)]
    assert [item.metadata["tokens"] for item in items] == [5, 10]
    assert len(items) == len(page.result.items)
    first = items[0]
    assert (first.external_customer_id, first.customer_id) == ("usr_u", customer.id)
    assert first.customer is not None
    assert first.customer.email == "usage@example.com"
    assert usage_api.polar.events.get(id=first.id) == first
    assert_not_found(lambda: stranger_api.polar.events.get(id=first.id))
    filtered = usage_api.polar.events.list(
        filter_=json.dumps(
            {
                "conjunction": "and",
                "clauses": [{"property": "model", "operator": "like", "value": "3.5"}],
            }
        ),
        customer_id=customer.id,
    )
    assert filtered is not None
    assert [item.id for item in filtered.result.items] == [first.id]
    names = usage_api.polar.events.list_names()
    assert names is not None
    assert [(n.name, n.occurrences) for n in names.result.items] == [
        ("completion", 2),
        ("other", 1),
    ]


def test_customer_meters(usage_api: Api, customer: models.Customer) -> None:
    tokens = create_meter(usage_api, "Tokens", {"func": "sum", "property": "tokens"})
    ingest(usage_api, customer)
    page = usage_api.polar.customer_meters.list(customer_id=customer.id)
    assert page is not None
    [item] = page.result.items
    assert (item.meter_id, item.consumed_units, item.credited_units, item.balance) == (
        tokens.id,
        15,
        0,
        -15,
    )
    assert item.customer.id == customer.id
    assert item.meter == tokens
    assert usage_api.polar.customer_meters.get(id=item.id) == item


def test_ingest_validation(usage_api: Api, stranger_api: Api) -> None:
    stranger = stranger_api.polar.customers.create(request={"email": "stranger@example.com"})
    with pytest.raises(models.HTTPValidationError) as caught:
        usage_api.polar.events.ingest(
            request={"events": [{"name": "x", "customer_id": stranger.id}]}
        )
    [error] = validation_errors(caught.value)
    assert (error["loc"], error["msg"]) == (
        ["body", "events", 0, "customer_id"],
        "Customer not found.",
    )


def test_scopes(api: Api) -> None:
    """The tenant's token has the customer scopes only."""
    with pytest.raises(models.SDKError) as caught:
        api.polar.events.ingest(request={"events": []})
    assert caught.value.status_code == 403
    assert json.loads(caught.value.body) == INSUFFICIENT_SCOPE
