"""The official client against the real server: list, export, tokens and scopes, and
personal (user) tokens. Each test runs in its own organization, so counts are exact."""

import json
import uuid
from collections.abc import Callable

import pytest
from polar_sdk import models

from tests.factories import CUSTOMER_KEYS
from tests.server.sdk_support import (
    INSUFFICIENT_SCOPE,
    INVALID_TOKEN,
    assert_not_found,
    create,
    error_family,
    list_page,
    listed_emails,
    validation_errors,
)
from tests.server.support import Api, ApiFactory, Member, Tenant

pytestmark = pytest.mark.server

# List ----------------------------------------------------------------------------------------


@pytest.fixture
def population(api: Api) -> list[models.Customer]:
    """Five customers created in this order (so `-created_at` lists them reversed)."""
    return [
        create(api, "alice@example.com", name="Alice Smith", external_id="usr_alice",
               metadata={"plan": "pro", "seats": 3, "vip": True}),
        create(api, "bob@example.com", name="Bob Stone", external_id="usr_bob",
               metadata={"plan": "free", "seats": "3"}),
        create(api, "carol@corp.example.org", name="Carol", external_id="team_carol",
               metadata={"plan": "pro", "seats": 5}),
        create(api, "dave@example.com", name=None, metadata={"plan": "enterprise", "vip": False}),
        create(api, "erin_100%@example.com", name="Erin \\ Co", metadata={"ratio": 1.0}),
    ]  # fmt: skip


def test_list_defaults(api: Api, population: list[models.Customer]) -> None:
    page = list_page(api)
    assert page.result.pagination.total_count == 5
    assert page.result.pagination.max_page == 1
    assert [customer.id for customer in page.result.items] == [
        customer.id for customer in reversed(population)
    ]
    assert page.result.items[-1] == population[0]
    body = api.last.json()
    assert list(body) == ["items", "pagination"]
    assert list(body["items"][0]) == CUSTOMER_KEYS


def test_list_filters_by_email_case_insensitively(
    api: Api, population: list[models.Customer]
) -> None:
    assert listed_emails(api, email="ALICE@EXAMPLE.COM") == ["alice@example.com"]
    assert listed_emails(api, email="alice") == []
    assert listed_emails(api, email="nobody@example.com") == []


def test_list_query_matches_name_email_and_external_id_prefix(
    api: Api, population: list[models.Customer]
) -> None:
    sort = [models.CustomerSortProperty.EMAIL]
    assert listed_emails(api, query="STONE", sorting=sort) == ["bob@example.com"]
    assert listed_emails(api, query="corp.example", sorting=sort) == ["carol@corp.example.org"]
    # A case-insensitive substring of the email or of the name.
    assert listed_emails(api, query="I", sorting=sort) == [
        "alice@example.com",
        "erin_100%@example.com",
    ]
    assert len(listed_emails(api, query="EXAMPLE", sorting=sort)) == 5
    # D2: a prefix of external_id, not a substring of it.
    assert listed_emails(api, query="usr_", sorting=sort) == [
        "alice@example.com",
        "bob@example.com",
    ]
    assert listed_emails(api, query="carol", sorting=sort) == ["carol@corp.example.org"]
    assert listed_emails(api, query="_carol", sorting=sort) == []
    # D2: `%`, `_` and `\` are literal characters.
    assert listed_emails(api, query="100%", sorting=sort) == ["erin_100%@example.com"]
    assert listed_emails(api, query="%", sorting=sort) == ["erin_100%@example.com"]
    assert listed_emails(api, query="n_1", sorting=sort) == ["erin_100%@example.com"]
    assert listed_emails(api, query="e_", sorting=sort) == []
    assert listed_emails(api, query="\\", sorting=sort) == ["erin_100%@example.com"]
    assert listed_emails(api, query="N \\ c", sorting=sort) == ["erin_100%@example.com"]
    assert listed_emails(api, query="nobody", sorting=sort) == []


def test_list_filters_by_organization_id(
    api: Api, tenant: Tenant, other_tenant: Tenant, population: list[models.Customer]
) -> None:
    assert list_page(api, organization_id=tenant.organization_id).result.pagination == (
        models.Pagination(total_count=5, max_page=1)
    )
    other = list_page(api, organization_id=other_tenant.organization_id).result
    assert other.items == []
    assert other.pagination.total_count == 0
    both = list_page(api, organization_id=[tenant.organization_id, other_tenant.organization_id])
    assert both.result.pagination.total_count == 5


def test_list_filters_by_metadata(api: Api, population: list[models.Customer]) -> None:
    sort = [models.CustomerSortProperty.EMAIL]
    assert listed_emails(api, metadata={"plan": "pro"}, sorting=sort) == [
        "alice@example.com",
        "carol@corp.example.org",
    ]
    # Several values of one key are ORed.
    assert listed_emails(api, metadata={"plan": ["free", "enterprise"]}, sorting=sort) == [
        "bob@example.com",
        "dave@example.com",
    ]
    # Values compare as text: 3 matches the integer 3 and the string "3".
    assert listed_emails(api, metadata={"seats": 3}, sorting=sort) == [
        "alice@example.com",
        "bob@example.com",
    ]
    assert listed_emails(api, metadata={"vip": True}, sorting=sort) == ["alice@example.com"]
    assert listed_emails(api, metadata={"vip": False}, sorting=sort) == ["dave@example.com"]
    # Different keys are ANDed.
    assert listed_emails(api, metadata={"plan": "pro", "seats": 5}, sorting=sort) == [
        "carol@corp.example.org"
    ]
    # A stored float 1.0 renders as "1.0", not "1".
    assert listed_emails(api, metadata={"ratio": 1}, sorting=sort) == []
    assert listed_emails(api, metadata={"missing": "x"}, sorting=sort) == []
    # The SDK sends the deepObject style: metadata[plan]=pro.
    listed_emails(api, metadata={"plan": "pro"})
    assert api.last.request.url.params.get_list("metadata[plan]") == ["pro"]


def test_list_sorting(api: Api, population: list[models.Customer]) -> None:
    emails = sorted(customer.email for customer in population)
    by = models.CustomerSortProperty
    assert listed_emails(api, sorting=[by.EMAIL]) == emails
    assert listed_emails(api, sorting=[by.MINUS_EMAIL]) == emails[::-1]
    assert listed_emails(api, sorting=[by.CREATED_AT]) == [c.email for c in population]
    assert listed_emails(api, sorting=[by.MINUS_CREATED_AT]) == [
        c.email for c in reversed(population)
    ]
    by_name = listed_emails(api, sorting=[by.NAME])
    # NULL names sort last ascending and first descending.
    assert by_name == [
        "alice@example.com",
        "bob@example.com",
        "carol@corp.example.org",
        "erin_100%@example.com",
        "dave@example.com",
    ]
    assert listed_emails(api, sorting=[by.MINUS_NAME]) == by_name[::-1]


def test_list_pagination(api: Api, population: list[models.Customer]) -> None:
    sort = [models.CustomerSortProperty.EMAIL]
    emails = sorted(customer.email for customer in population)
    pages = [list_page(api, page=number, limit=2, sorting=sort).result for number in (1, 2, 3)]
    assert [[c.email for c in page.items] for page in pages] == [
        emails[0:2],
        emails[2:4],
        emails[4:5],
    ]
    for page in pages:
        assert page.pagination == models.Pagination(total_count=5, max_page=3)
    # D4: a page past the last keeps the true totals.
    beyond = list_page(api, page=4, limit=2, sorting=sort).result
    assert beyond.items == []
    assert beyond.pagination == models.Pagination(total_count=5, max_page=3)
    # A limit above 100 is capped to 100.
    capped = list_page(api, limit=1000).result
    assert len(capped.items) == 5
    assert capped.pagination.max_page == 1


def test_list_iterates_pages_with_next(api: Api, population: list[models.Customer]) -> None:
    sort = [models.CustomerSortProperty.EMAIL]
    page: models.CustomersListResponse | None = list_page(api, limit=2, sorting=sort)
    seen: list[str] = []
    pages = 0
    while page is not None:
        pages += 1
        seen.extend(customer.email for customer in page.result.items)
        page = page.next()
    assert pages == 3
    assert seen == sorted(customer.email for customer in population)


def test_list_rejects_bad_paging_and_sorting(api: Api) -> None:
    with pytest.raises(models.HTTPValidationError) as caught:
        api.polar.customers.list(page=0)
    [error] = validation_errors(caught.value)
    assert (error["type"], error["loc"]) == ("greater_than", ["query", "page"])


# Export --------------------------------------------------------------------------------------


def test_export_returns_live_customers_as_json(
    api: Api, other_api: Api, tenant: Tenant, other_tenant: Tenant
) -> None:
    kept = create(
        api,
        "kept@example.com",
        external_id="kept",
        name="Kept",
        tax_id=["911144442", "us_ein"],
        billing_address={"country": "US", "state": "CA"},
        metadata={"plan": "pro"},
    )
    kept_body = api.last.json()
    plain = create(api, "plain@example.com")
    plain_body = api.last.json()
    deleted = create(api, "deleted@example.com")
    api.polar.customers.delete(id=deleted.id)
    create(other_api, "foreign@example.com")

    exported = api.polar.customers.export()
    response = api.last
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert isinstance(exported, list)
    assert sorted(exported, key=lambda item: item["email"]) == [kept_body, plain_body]
    assert {models.Customer.model_validate(item).id for item in exported} == {kept.id, plain.id}

    assert api.polar.customers.export(organization_id=tenant.organization_id) == exported
    assert api.polar.customers.export(organization_id=other_tenant.organization_id) == []


def test_export_of_an_empty_organization(api: Api) -> None:
    assert api.polar.customers.export() == []
    assert api.last.status_code == 200


# Authentication and scopes -----------------------------------------------------------------


def test_a_bad_token_is_401(api_factory: ApiFactory) -> None:
    bad = api_factory("polar_oat_" + "x" * 43)
    with pytest.raises(models.SDKError) as caught:
        bad.polar.customers.list()
    assert caught.value.status_code == 401
    assert json.loads(caught.value.body) == INVALID_TOKEN
    assert caught.value.headers["www-authenticate"].startswith(
        'Bearer realm="polar", error="invalid_token"'
    )
    with pytest.raises(models.SDKError) as caught:
        bad.polar.customers.get(id=str(uuid.uuid4()))
    assert caught.value.status_code == 401


def test_a_read_only_token_reads_but_cannot_write(
    api: Api, api_factory: ApiFactory, read_only_token: str
) -> None:
    customer = create(api, "ro@example.com", external_id="ro")
    reader = api_factory(read_only_token)
    assert reader.polar.customers.get(id=customer.id) == customer
    assert reader.polar.customers.get_external(external_id="ro") == customer
    assert list_page(reader).result.pagination.total_count == 1
    assert len(reader.polar.customers.export()) == 1

    writes: list[Callable[[], object]] = [
        lambda: reader.polar.customers.create(request={"email": "new@example.com"}),
        lambda: reader.polar.customers.update(id=customer.id, customer_update={"name": "x"}),
        lambda: reader.polar.customers.update_external(
            external_id="ro", customer_update_external_id={"name": "x"}
        ),
        lambda: reader.polar.customers.delete(id=customer.id),
        lambda: reader.polar.customers.delete_external(external_id="ro"),
    ]
    for write in writes:
        with pytest.raises(models.SDKError) as caught:
            write()
        assert caught.value.status_code == 403
        assert json.loads(caught.value.body) == INSUFFICIENT_SCOPE
        assert 'scope="customers:write web:write"' in caught.value.headers["www-authenticate"]
    assert api.polar.customers.get(id=customer.id) == customer


def test_a_token_without_customer_scopes_is_403(
    api_factory: ApiFactory, organizations_read_token: str
) -> None:
    outsider = api_factory(organizations_read_token)
    reads: list[Callable[[], object]] = [
        lambda: outsider.polar.customers.list(),
        lambda: outsider.polar.customers.export(),
        lambda: outsider.polar.customers.get(id=str(uuid.uuid4())),
        lambda: outsider.polar.customers.get_external(external_id="x"),
    ]
    for read in reads:
        with pytest.raises(models.SDKError) as caught:
            read()
        assert caught.value.status_code == 403
        assert json.loads(caught.value.body) == INSUFFICIENT_SCOPE


# Personal access tokens (user subjects) ----------------------------------------------------


def test_user_create_requires_an_organization_id(
    api_factory: ApiFactory, lone_member: Member, tenant: Tenant, other_tenant: Tenant
) -> None:
    user = api_factory(lone_member.token)
    with pytest.raises(models.HTTPValidationError) as caught:
        user.polar.customers.create(request={"email": "user@example.com"})
    assert error_family(caught.value) == "PolarRequestValidationError"
    assert validation_errors(caught.value) == [
        {
            "type": "missing",
            "loc": ["body", "organization_id"],
            "msg": "organization_id is required.",
            "input": None,
        }
    ]

    with pytest.raises(models.HTTPValidationError) as caught:
        user.polar.customers.create(
            request={"email": "user@example.com", "organization_id": other_tenant.organization_id}
        )
    assert validation_errors(caught.value) == [
        {
            "type": "value_error",
            "loc": ["body", "organization_id"],
            "msg": "Organization not found.",
            "input": other_tenant.organization_id,
        }
    ]

    customer = user.polar.customers.create(
        request={"email": "user@example.com", "organization_id": tenant.organization_id}
    )
    assert user.last.status_code == 201
    assert customer.organization_id == tenant.organization_id


def test_user_sees_every_organization_it_belongs_to(
    api: Api,
    other_api: Api,
    api_factory: ApiFactory,
    member: Member,
    tenant: Tenant,
    other_tenant: Tenant,
) -> None:
    mine = create(api, "in-first@example.com", external_id="first")
    theirs = create(other_api, "in-second@example.com", external_id="second")
    user = api_factory(member.token)

    sort = [models.CustomerSortProperty.EMAIL]
    everything = list_page(user, sorting=sort).result
    assert [c.id for c in everything.items] == [mine.id, theirs.id]
    assert everything.pagination.total_count == 2
    only_second = list_page(user, organization_id=other_tenant.organization_id).result
    assert [c.id for c in only_second.items] == [theirs.id]

    assert user.polar.customers.get(id=theirs.id) == theirs
    assert user.polar.customers.get_external(external_id="first") == mine
    exported = user.polar.customers.export()
    assert sorted(item["id"] for item in exported) == sorted([mine.id, theirs.id])

    created = user.polar.customers.create(
        request={"email": "by-user@example.com", "organization_id": other_tenant.organization_id}
    )
    assert created.organization_id == other_tenant.organization_id
    assert other_api.polar.customers.get(id=created.id) == created
    assert_not_found(lambda: api.polar.customers.get(id=created.id))

    renamed = user.polar.customers.update(id=mine.id, customer_update={"name": "Renamed"})
    assert renamed.name == "Renamed"
    assert user.polar.customers.delete_external(external_id="second") is None
    assert_not_found(lambda: other_api.polar.customers.get(id=theirs.id))


def test_user_does_not_see_other_organizations(
    other_api: Api, api_factory: ApiFactory, lone_member: Member
) -> None:
    theirs = create(other_api, "hidden@example.com", external_id="hidden")
    user = api_factory(lone_member.token)
    assert list_page(user).result.pagination.total_count == 0
    assert user.polar.customers.export() == []
    assert_not_found(lambda: user.polar.customers.get(id=theirs.id))
    assert_not_found(lambda: user.polar.customers.get_external(external_id="hidden"))


def test_user_lookup_of_an_external_id_held_in_two_organizations(
    api: Api, other_api: Api, api_factory: ApiFactory, member: Member
) -> None:
    """D1: the same external ID in two of the user's organizations is never a 500."""
    create(api, "twin-a@example.com", external_id="twin")
    create(other_api, "twin-b@example.com", external_id="twin")
    user = api_factory(member.token)
    with pytest.raises(models.HTTPValidationError) as caught:
        user.polar.customers.get_external(external_id="twin")
    assert caught.value.status_code == 422
