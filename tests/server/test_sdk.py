"""The official client (`polar-sdk==0.27.1`) against the real server: create, get, update,
delete and their external-id variants. Each test runs in its own organization."""

import uuid
from datetime import UTC, datetime

import pytest
from polar_sdk import models

from tests.factories import CUSTOMER_KEYS
from tests.server.sdk_support import (
    DUPLICATE_EMAIL,
    DUPLICATE_EXTERNAL_ID,
    IMMUTABLE_EXTERNAL_ID,
    assert_not_found,
    avatar_url,
    create,
    error_family,
    listed_emails,
    validation_errors,
)
from tests.server.support import UUID4_PATTERN, Api, Tenant

pytestmark = pytest.mark.server

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
