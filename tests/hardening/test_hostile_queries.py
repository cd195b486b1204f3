"""SQL metacharacters, NUL and invalid UTF-8 in every query parameter and string path parameter
of every read operation, taken from our own OpenAPI document: never a 5xx, and the data is
still there afterwards."""

import re
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.models import Customer, Organization
from tests.factories import create_customer

# Raw query-string values (already percent-encoded where they must be).
HOSTILE = [
    quote("' OR '1'='1"),
    quote('"; DROP TABLE customers; --'),
    quote("%' OR 1=1 --"),
    quote("_%\\"),
    quote(") UNION SELECT id, email FROM customers --"),
    quote("$1 :name ? %s"),
    quote("[]{}*+?.()|^$"),
    "%00",
    "a%00b",
    "%FF%FE",
    "%C3%28",
    quote("😀" * 3),
]
READ_ONLY_PARAMETERS = {"page", "limit"}


def read_operations(app: FastAPI) -> list[tuple[str, list[dict[str, Any]]]]:
    """(path template, parameters) of every GET operation under /v1."""
    operations = []
    for path, item in app.openapi()["paths"].items():
        get = item.get("get")
        if path.startswith("/v1/") and get is not None:
            operations.append((path, get.get("parameters", [])))
    return operations


def is_text(schema: dict[str, Any]) -> bool:
    """A parameter that takes free text (not only a number, boolean, UUID or date)."""
    options = schema.get("anyOf", [schema])
    for option in options:
        item = option.get("items", option)
        if item.get("type") == "string" and item.get("format") not in ("uuid", "uuid4"):
            return True
        if "enum" in item or "$ref" in item:
            return True
    return False


@pytest.fixture
async def customer(session: AsyncSession, organization: Organization) -> Customer:
    return await create_customer(
        session, organization=organization, external_id="usr_1", metadata={"plan": "pro"}
    )


async def probe(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], failures: list[Any]
) -> None:
    """GET `url`; anything but 200, 404 or 422 is recorded in `failures`."""
    try:
        response = await client.get(url, headers=headers)
    except Exception as error:  # the in-process client raises what a server answers 500
        failures.append((url, 500, repr(error)[:300]))
        return
    if response.status_code not in (200, 404, 422):
        failures.append((url, response.status_code, response.text[:200]))


def fill_path(path: str, customer: Customer) -> str:
    """Path parameters filled with existing ids, so the query parameters are reached."""
    return re.sub(r"\{[^}]+\}", str(customer.id), path)


async def test_every_read_parameter(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
) -> None:
    probed = 0
    failures: list[Any] = []
    for path, parameters in read_operations(app):
        for parameter in parameters:
            if parameter["in"] != "query" or parameter["name"] in READ_ONLY_PARAMETERS:
                continue
            if not is_text(parameter.get("schema", {})):
                continue
            for value in HOSTILE:
                url = f"{fill_path(path, customer)}?{parameter['name']}={value}"
                probed += 1
                await probe(client, url, headers, failures)
    assert probed > 100
    assert failures == [], "\n".join(map(str, failures))
    # Nothing was changed by what was sent.
    response = await client.get(f"/v1/customers/{customer.id}", headers=headers)
    assert response.status_code == 200
    assert response.json()["metadata"] == {"plan": "pro"}


async def test_metadata_filters(
    client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
) -> None:
    failures: list[Any] = []
    for key in (quote("pl'an"), quote("a]b"), "%00", "%FF"):
        for value in HOSTILE:
            url = f"/v1/customers/?metadata[{key}]={value}"
            await probe(client, url, headers, failures)
    assert failures == [], "\n".join(map(str, failures))


async def test_string_path_parameters(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
) -> None:
    failures: list[Any] = []
    for path, parameters in read_operations(app):
        names = [p["name"] for p in parameters if p["in"] == "path"]
        for name in names:
            for value in HOSTILE:
                url = re.sub(r"\{[^}]+\}", str(customer.id), path.replace(f"{{{name}}}", value))
                await probe(client, url, headers, failures)
    assert failures == [], "\n".join(map(str, failures))
