"""The official client against the real server: get, update and delete by external ID.

The client is `polar-sdk==0.27.1`; each test runs in its own organization.
"""

import pytest
from polar_sdk import models

from tests.server.sdk_support import (
    DUPLICATE_EMAIL,
    assert_not_found,
    create,
    validation_errors,
)
from tests.server.support import Api

pytestmark = pytest.mark.server


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
