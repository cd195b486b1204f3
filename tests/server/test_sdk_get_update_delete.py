"""The official client against the real server: get, update and delete by ID.

The client is `polar-sdk==0.27.1`; each test runs in its own organization.
"""

import uuid

import pytest
from polar_sdk import models

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
from tests.server.support import Api

pytestmark = pytest.mark.server

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
