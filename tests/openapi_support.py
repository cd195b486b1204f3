"""The `docs_client` and `document` fixtures shared by the OpenAPI test modules.

A test module registers them by importing `docs_client_fixture` and `document_fixture`; their
`name=` keeps the imported names from shadowing the test functions' parameters.
"""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from polar_customers.app import create_app
from polar_customers.config import Settings


@pytest.fixture(scope="module", name="docs_client")
async def docs_client_fixture(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a real application; the documents it serves never touch the database."""
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
    await app.state.database.dispose()


@pytest.fixture(scope="module", name="document")
async def document_fixture(docs_client: httpx.AsyncClient) -> dict[str, Any]:
    response = await docs_client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body
