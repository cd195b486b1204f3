"""Helpers for the official-client tests."""

import hashlib
import json
from collections.abc import Callable
from typing import Any, cast

import pytest
from polar_sdk import models

from tests.server.support import Api

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
