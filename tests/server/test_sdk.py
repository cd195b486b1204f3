"""The official client (`polar-sdk==0.27.1`) against the real server process.

Each test runs in its own organization (see `tenant` in conftest), so counts are exact.
"""

import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from polar_sdk import models

from tests.server.support import UUID4_PATTERN, Api, ApiFactory, Member, Tenant

pytestmark = pytest.mark.server

CUSTOMER_KEYS = [
    "id",
    "created_at",
    "modified_at",
    "metadata",
    "external_id",
    "email",
    "email_verified",
    "name",
    "billing_address",
    "tax_id",
    "organization_id",
    "deleted_at",
    "avatar_url",
]
DUPLICATE_EMAIL = "A customer with this email address already exists."
DUPLICATE_EXTERNAL_ID = "A customer with this external ID already exists."
IMMUTABLE_EXTERNAL_ID = "Customer external ID cannot be updated."
INVALID_TOKEN = {
    "error": "invalid_token",
    "error_description": (
        "The access token provided is expired, revoked, malformed, or invalid for other reasons."
    ),
}
INSUFFICIENT_SCOPE = {
    "error": "insufficient_scope",
    "error_description": (
        "The request requires higher privileges than provided by the access token."
    ),
}
NOT_FOUND_BODY = {"error": "ResourceNotFound", "detail": "Not found"}


def avatar_url(email: str) -> str:
    digest = hashlib.sha256(email.lower().encode()).hexdigest()
    return f"https://www.gravatar.com/avatar/{digest}?d=404"


def create(api: Api, email: str, **fields: Any) -> models.Customer:
    request = cast(models.CustomerCreateTypedDict, {"email": email, **fields})
    customer = api.polar.customers.create(request=request)
    assert api.last.status_code == 201
    return customer


def list_page(api: Api, **params: Any) -> models.CustomersListResponse:
    page = api.polar.customers.list(**params)
    assert page is not None
    assert api.last.status_code == 200
    return page


def listed_emails(api: Api, **params: Any) -> list[str]:
    return [customer.email for customer in list_page(api, limit=100, **params).result.items]


def validation_errors(error: models.HTTPValidationError) -> list[dict[str, Any]]:
    """The `detail` items of a 422 as sent on the wire (the SDK model keeps only loc/msg/type)."""
    body = json.loads(error.body)
    assert isinstance(body["detail"], list)
    # The SDK parsed the same items into its typed model.
    assert error.data.detail is not None
    assert [(item.loc, item.msg, item.type) for item in error.data.detail] == [
        (item["loc"], item["msg"], item["type"]) for item in body["detail"]
    ]
    items: list[dict[str, Any]] = body["detail"]
    return items


def error_family(error: models.HTTPValidationError) -> str:
    family: str = json.loads(error.body)["error"]
    return family


def assert_not_found(call: Callable[[], object]) -> None:
    with pytest.raises(models.ResourceNotFound) as caught:
        call()
    assert caught.value.status_code == 404
    assert caught.value.data.detail == "Not found"
    assert json.loads(caught.value.body) == NOT_FOUND_BODY


# Create --------------------------------------------------------------------------------------


def test_create_with_every_field(api: Api, tenant: Tenant) -> None:
    before = datetime.now(UTC)
    request: models.CustomerCreateTypedDict = {
        "email": "  Jane.Doe@EXAMPLE.com ",
        "name": "Jane Doe",
        "external_id": "usr_1337",
        "billing_address": {
            # The SDK would silently drop an address whose country is "us".
            "country": models.CountryAlpha2Input.US,
            "state": "CA",
            "line1": " 1 Main St ",
            "line2": "   ",
            "city": "San Francisco",
            "postal_code": "94103",
        },
        "tax_id": ["911144442", "us_ein"],
        "metadata": {"plan": "pro", "seats": 3, "ratio": 1.5, "vip": True},
    }
    customer = api.polar.customers.create(request=request)
    response = api.last
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"

    assert UUID4_PATTERN.match(customer.id)
    assert customer.email == "Jane.Doe@example.com"
    assert customer.name == "Jane Doe"
    assert customer.external_id == "usr_1337"
    assert customer.email_verified is False
    assert customer.organization_id == tenant.organization_id
    assert customer.modified_at is None
    assert customer.deleted_at is None
    assert customer.created_at.tzinfo is not None
    assert before.timestamp() - 5 <= customer.created_at.timestamp() <= before.timestamp() + 60
    assert customer.avatar_url == avatar_url("Jane.Doe@example.com")
    assert customer.tax_id == ["911144442", "us_ein"]
    metadata = customer.metadata
    assert metadata == {"plan": "pro", "seats": 3, "ratio": 1.5, "vip": True}
    assert type(metadata["seats"]) is int
    assert type(metadata["ratio"]) is float
    assert type(metadata["vip"]) is bool
    address = customer.billing_address
    assert address is not None
    assert address.country == "US"
    assert address.state == "US-CA"
    assert address.line1 == "1 Main St"
    assert address.line2 is None
    assert address.city == "San Francisco"
    assert address.postal_code == "94103"

    body = response.json()
    assert list(body) == CUSTOMER_KEYS
    assert body["created_at"].endswith("Z")
    assert body["billing_address"] == {
        "line1": "1 Main St",
        "line2": None,
        "postal_code": "94103",
        "city": "San Francisco",
        "state": "US-CA",
        "country": "US",
    }


def test_create_with_only_an_email(api: Api, tenant: Tenant) -> None:
    customer = create(api, "solo@example.com")
    body = api.last.json()
    assert body["metadata"] == {}
    assert body["external_id"] is None
    assert body["name"] is None
    assert body["billing_address"] is None
    assert body["tax_id"] is None
    assert customer.organization_id == tenant.organization_id


def test_create_with_an_empty_external_id_stores_null(api: Api) -> None:
    """D3: `""` is stored as null, so it never blocks a second customer."""
    first = create(api, "one@example.com", external_id="")
    second = create(api, "two@example.com", external_id="")
    assert first.external_id is None
    assert second.external_id is None


def test_create_rejects_a_duplicate_email_case_insensitively(api: Api) -> None:
    create(api, "dup@example.com")
    with pytest.raises(models.HTTPValidationError) as caught:
        api.polar.customers.create(request={"email": "DUP@example.com"})
    assert caught.value.status_code == 422
    assert error_family(caught.value) == "PolarRequestValidationError"
    assert validation_errors(caught.value) == [
        {
            "type": "value_error",
            "loc": ["body", "email"],
            "msg": DUPLICATE_EMAIL,
            "input": "DUP@example.com",
        }
    ]


def test_create_rejects_a_duplicate_external_id(api: Api) -> None:
    create(api, "first@example.com", external_id="ext-1")
    with pytest.raises(models.HTTPValidationError) as caught:
        api.polar.customers.create(request={"email": "second@example.com", "external_id": "ext-1"})
    assert error_family(caught.value) == "PolarRequestValidationError"
    assert validation_errors(caught.value) == [
        {
            "type": "value_error",
            "loc": ["body", "external_id"],
            "msg": DUPLICATE_EXTERNAL_ID,
            "input": "ext-1",
        }
    ]
    # External IDs are case-sensitive: another case is another ID.
    assert create(api, "third@example.com", external_id="EXT-1").external_id == "EXT-1"


def test_create_reports_both_duplicates_at_once(api: Api) -> None:
    create(api, "both@example.com", external_id="both")
    with pytest.raises(models.HTTPValidationError) as caught:
        api.polar.customers.create(request={"email": "both@example.com", "external_id": "both"})
    assert [(item["loc"], item["msg"]) for item in validation_errors(caught.value)] == [
        (["body", "email"], DUPLICATE_EMAIL),
        (["body", "external_id"], DUPLICATE_EXTERNAL_ID),
    ]


def test_the_same_email_and_external_id_in_two_organizations(api: Api, other_api: Api) -> None:
    mine = create(api, "shared@example.com", external_id="shared")
    theirs = create(other_api, "shared@example.com", external_id="shared")
    assert mine.id != theirs.id
    assert mine.organization_id != theirs.organization_id


def test_create_rejects_a_bad_email(api: Api) -> None:
    with pytest.raises(models.HTTPValidationError) as caught:
        api.polar.customers.create(request={"email": "not-an-email"})
    assert caught.value.status_code == 422
    assert error_family(caught.value) == "RequestValidationError"
    [error] = validation_errors(caught.value)
    assert error["type"] == "value_error"
    assert error["loc"] == ["body", "email"]
    assert error["msg"] == (
        "value is not a valid email address: An email address must have an @-sign."
    )
    assert error["input"] == "not-an-email"
    assert error["ctx"] == {"reason": "An email address must have an @-sign."}
    assert "url" not in error


def test_create_rejects_an_unknown_tax_id_format(api: Api) -> None:
    with pytest.raises(models.HTTPValidationError) as caught:
        api.polar.customers.create(request={"email": "tax@example.com", "tax_id": ["123", "xx_xx"]})
    assert error_family(caught.value) == "RequestValidationError"
    [error] = validation_errors(caught.value)
    assert error["type"] == "enum"
    assert error["loc"] == ["body", "tax_id", 1]
    assert error["input"] == "xx_xx"
    assert error["msg"].startswith("Input should be 'ad_nrt', 'ae_trn', ")
    assert error["msg"].endswith(" or 'za_vat'")


def test_create_rejects_an_invalid_us_state(api: Api) -> None:
    address: models.AddressInputTypedDict = {
        "country": models.CountryAlpha2Input.US,
        "state": "XX",
    }
    with pytest.raises(models.HTTPValidationError) as caught:
        api.polar.customers.create(
            request={"email": "state@example.com", "billing_address": address}
        )
    [error] = validation_errors(caught.value)
    assert error["type"] == "value_error"
    assert error["loc"] == ["body", "billing_address"]
    assert error["msg"] == "Value error, Invalid US state"
    assert error["input"] == address


def test_create_rejects_organization_id_with_an_organization_token(
    api: Api, tenant: Tenant
) -> None:
    with pytest.raises(models.HTTPValidationError) as caught:
        api.polar.customers.create(
            request={"email": "org@example.com", "organization_id": tenant.organization_id}
        )
    assert error_family(caught.value) == "PolarRequestValidationError"
    assert validation_errors(caught.value) == [
        {
            "type": "organization_token",
            "loc": ["body", "organization_id"],
            "msg": "Setting organization_id is disallowed when using an organization token.",
            "input": tenant.organization_id,
        }
    ]


# Get -----------------------------------------------------------------------------------------


def test_get_returns_the_created_customer(api: Api) -> None:
    created = create(
        api,
        "get@example.com",
        name="Get Me",
        metadata={"k": "v"},
        billing_address={"country": "FR", "city": "Paris"},
    )
    created_body = api.last.json()
    fetched = api.polar.customers.get(id=created.id)
    assert api.last.status_code == 200
    assert fetched == created
    assert api.last.json() == created_body


def test_get_unknown_deleted_and_foreign_customers_are_not_found(api: Api, other_api: Api) -> None:
    assert_not_found(lambda: api.polar.customers.get(id=str(uuid.uuid4())))

    deleted = create(api, "gone@example.com")
    api.polar.customers.delete(id=deleted.id)
    assert_not_found(lambda: api.polar.customers.get(id=deleted.id))

    foreign = create(other_api, "foreign@example.com", external_id="foreign")
    assert_not_found(lambda: api.polar.customers.get(id=foreign.id))
    assert_not_found(lambda: api.polar.customers.get_external(external_id="foreign"))
    assert_not_found(
        lambda: api.polar.customers.update(id=foreign.id, customer_update={"name": "Mine"})
    )
    assert_not_found(
        lambda: api.polar.customers.update_external(
            external_id="foreign", customer_update_external_id={"name": "Mine"}
        )
    )
    assert_not_found(lambda: api.polar.customers.delete(id=foreign.id))
    assert_not_found(lambda: api.polar.customers.delete_external(external_id="foreign"))
    # The other organization's customer is untouched.
    still_there = other_api.polar.customers.get(id=foreign.id)
    assert still_there.name is None
    assert still_there.modified_at is None


def test_get_with_a_malformed_id_is_a_validation_error(api: Api) -> None:
    with pytest.raises(models.HTTPValidationError) as caught:
        api.polar.customers.get(id="not-a-uuid")
    [error] = validation_errors(caught.value)
    assert error["type"] == "uuid_parsing"
    assert error["loc"] == ["path", "id"]


# Update --------------------------------------------------------------------------------------


def test_update_writes_present_fields_and_keeps_omitted_ones(api: Api) -> None:
    created = create(
        api,
        "update@example.com",
        name="Before",
        external_id="upd",
        billing_address={"country": "US", "state": "NY"},
        tax_id=["911144442", "us_ein"],
        metadata={"old": "value", "n": 1},
    )
    update: models.CustomerUpdateTypedDict = {
        "name": "After",
        "metadata": {"new": True},
        "billing_address": {
            "country": models.CountryAlpha2Input.CA,
            "state": "QC",
            "city": "Montréal",
        },
        "tax_id": None,
    }
    updated = api.polar.customers.update(id=created.id, customer_update=update)
    assert api.last.status_code == 200
    assert updated.id == created.id
    assert updated.name == "After"
    assert updated.metadata == {"new": True}
    assert updated.tax_id is None
    assert updated.email == "update@example.com"
    assert updated.external_id == "upd"
    assert updated.modified_at is not None
    assert updated.created_at == created.created_at
    assert api.last.json()["billing_address"] == {
        "line1": None,
        "line2": None,
        "postal_code": None,
        "city": "Montréal",
        "state": "CA-QC",
        "country": "CA",
    }
    assert api.polar.customers.get(id=created.id) == updated


def test_update_with_null_clears_and_empty_body_changes_nothing(api: Api) -> None:
    created = create(api, "clear@example.com", name="Name", billing_address={"country": "DE"})
    untouched = api.polar.customers.update(id=created.id, customer_update={})
    assert untouched == created
    assert untouched.modified_at is None

    cleared = api.polar.customers.update(
        id=created.id, customer_update={"name": None, "billing_address": None, "metadata": {}}
    )
    assert cleared.name is None
    assert cleared.billing_address is None
    assert cleared.metadata == {}
    assert cleared.modified_at is not None


def test_update_email_checks_uniqueness(api: Api) -> None:
    create(api, "taken@example.com")
    customer = create(api, "mine@example.com")
    with pytest.raises(models.HTTPValidationError) as caught:
        api.polar.customers.update(id=customer.id, customer_update={"email": "TAKEN@example.com"})
    assert error_family(caught.value) == "PolarRequestValidationError"
    assert [(item["loc"], item["msg"]) for item in validation_errors(caught.value)] == [
        (["body", "email"], DUPLICATE_EMAIL)
    ]
    # A change of letter case only is stored.
    recased = api.polar.customers.update(
        id=customer.id, customer_update={"email": "Mine@example.com"}
    )
    assert recased.email == "Mine@example.com"
    assert recased.avatar_url == avatar_url("mine@example.com")


def test_update_rejects_a_null_email(api: Api) -> None:
    """D1: `"email": null` is a 422, never a 500."""
    customer = create(api, "null-email@example.com")
    with pytest.raises(models.HTTPValidationError) as caught:
        api.polar.customers.update(id=customer.id, customer_update={"email": None})
    assert caught.value.status_code == 422
    assert validation_errors(caught.value)[0]["loc"] == ["body", "email"]
    assert api.polar.customers.get(id=customer.id).email == "null-email@example.com"


def test_external_id_can_be_set_once_then_never_changed(api: Api) -> None:
    customer = create(api, "ext@example.com")
    assert customer.external_id is None
    set_once = api.polar.customers.update(id=customer.id, customer_update={"external_id": "e-1"})
    assert set_once.external_id == "e-1"
    same_again = api.polar.customers.update(id=customer.id, customer_update={"external_id": "e-1"})
    assert same_again.external_id == "e-1"

    for new_value in ("e-2", None):
        with pytest.raises(models.HTTPValidationError) as caught:
            api.polar.customers.update(id=customer.id, customer_update={"external_id": new_value})
        assert error_family(caught.value) == "PolarRequestValidationError"
        assert validation_errors(caught.value) == [
            {
                "type": "value_error",
                "loc": ["body", "external_id"],
                "msg": IMMUTABLE_EXTERNAL_ID,
                "input": new_value,
            }
        ]
    assert api.polar.customers.get(id=customer.id).external_id == "e-1"


def test_update_external_id_to_one_taken_is_rejected(api: Api) -> None:
    create(api, "holder@example.com", external_id="taken")
    customer = create(api, "seeker@example.com")
    with pytest.raises(models.HTTPValidationError) as caught:
        api.polar.customers.update(id=customer.id, customer_update={"external_id": "taken"})
    assert validation_errors(caught.value) == [
        {
            "type": "value_error",
            "loc": ["body", "external_id"],
            "msg": DUPLICATE_EXTERNAL_ID,
            "input": "taken",
        }
    ]


def test_update_unknown_customer_is_not_found(api: Api) -> None:
    assert_not_found(
        lambda: api.polar.customers.update(id=str(uuid.uuid4()), customer_update={"name": "x"})
    )


# Delete --------------------------------------------------------------------------------------


def test_delete_answers_204_and_frees_email_and_external_id(api: Api) -> None:
    customer = create(api, "delete@example.com", external_id="del")
    assert api.polar.customers.delete(id=customer.id) is None
    response = api.last
    assert response.status_code == 204
    assert response.content == b""
    assert "content-type" not in response.headers  # D10

    assert_not_found(lambda: api.polar.customers.get(id=customer.id))
    assert_not_found(lambda: api.polar.customers.get_external(external_id="del"))
    assert_not_found(lambda: api.polar.customers.delete(id=customer.id))
    assert listed_emails(api) == []

    again = create(api, "delete@example.com", external_id="del")
    assert again.id != customer.id
    assert api.polar.customers.get_external(external_id="del").id == again.id


# By external ID ----------------------------------------------------------------------------


def test_get_external(api: Api) -> None:
    customer = create(api, "external@example.com", external_id="usr 42 ä")
    fetched = api.polar.customers.get_external(external_id="usr 42 ä")
    assert fetched == customer
    # Matching is exact and case-sensitive.
    assert_not_found(lambda: api.polar.customers.get_external(external_id="USR 42 Ä"))
    assert_not_found(lambda: api.polar.customers.get_external(external_id="usr 42"))
    assert_not_found(lambda: api.polar.customers.get_external(external_id="nobody"))


def test_update_external(api: Api) -> None:
    customer = create(api, "upd-ext@example.com", external_id="u-1", metadata={"a": 1})
    updated = api.polar.customers.update_external(
        external_id="u-1",
        customer_update_external_id={
            "name": "By External",
            "email": "new-ext@example.com",
            "metadata": {"b": "2"},
        },
    )
    assert api.last.status_code == 200
    assert updated.id == customer.id
    assert updated.name == "By External"
    assert updated.email == "new-ext@example.com"
    assert updated.metadata == {"b": "2"}
    assert updated.external_id == "u-1"
    assert updated.modified_at is not None
    assert api.polar.customers.get(id=customer.id) == updated
    assert_not_found(
        lambda: api.polar.customers.update_external(
            external_id="u-2", customer_update_external_id={"name": "x"}
        )
    )


def test_update_external_checks_email_uniqueness(api: Api) -> None:
    create(api, "occupied@example.com")
    create(api, "free@example.com", external_id="u-3")
    with pytest.raises(models.HTTPValidationError) as caught:
        api.polar.customers.update_external(
            external_id="u-3", customer_update_external_id={"email": "occupied@example.com"}
        )
    assert [(item["loc"], item["msg"]) for item in validation_errors(caught.value)] == [
        (["body", "email"], DUPLICATE_EMAIL)
    ]


def test_delete_external(api: Api) -> None:
    customer = create(api, "del-ext@example.com", external_id="d-1")
    assert api.polar.customers.delete_external(external_id="d-1") is None
    assert api.last.status_code == 204
    assert api.last.content == b""
    assert_not_found(lambda: api.polar.customers.get(id=customer.id))
    assert_not_found(lambda: api.polar.customers.delete_external(external_id="d-1"))


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
