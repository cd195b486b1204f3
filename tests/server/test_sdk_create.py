"""The official client against the real server: create, and its validation errors.

The client is `polar-sdk==0.27.1`; each test runs in its own organization.
"""

from datetime import UTC, datetime

import pytest
from polar_sdk import models

from tests.factories import CUSTOMER_KEYS
from tests.server.sdk_support import (
    DUPLICATE_EMAIL,
    DUPLICATE_EXTERNAL_ID,
    avatar_url,
    create,
    error_family,
    validation_errors,
)
from tests.server.support import UUID4_PATTERN, Api, Tenant

pytestmark = pytest.mark.server


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
